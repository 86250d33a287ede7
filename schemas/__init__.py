"""Event contracts of the Six Cities Matchmaker (pydantic v2 models + exported JSON Schemas)."""

from schemas.events import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    Challenge,
    City,
    CompanyProfile,
    MatchResult,
    match_id_for,
)
from schemas.ytunnus import validate_business_id
from schemas.subscriptions import InboxToken, Subscription  # delivery side (notifier, inbox)
from schemas.notifications import Notification, NotificationDeadLetter
from schemas.dead_letters import DeadLetter  # the worker's refused input

CONTRACTS = {"challenge": Challenge, "company-profile": CompanyProfile, "match-result": MatchResult}
CONTRACTS.update({"subscription": Subscription, "inbox-token": InboxToken, "notification": Notification,
                  "notification-dead-letter": NotificationDeadLetter, "dead-letter": DeadLetter})

__all__ = [
    "CONTRACTS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "Challenge",
    "City",
    "CompanyProfile",
    "DeadLetter",
    "MatchResult",
    "InboxToken",
    "Notification",
    "NotificationDeadLetter",
    "Subscription",
    "match_id_for",
    "validate_business_id",
]
