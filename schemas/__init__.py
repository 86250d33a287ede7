"""Event contracts of the Six Cities Matchmaker (pydantic v2 models + exported JSON Schemas)."""

from pydantic import BaseModel

from schemas.dead_letters import DeadLetter  # the worker's refused input
from schemas.events import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    Challenge,
    City,
    CompanyProfile,
    MatchResult,
    match_id_for,
)
from schemas.notifications import Notification, NotificationDeadLetter
from schemas.subscriptions import (  # delivery side (notifier, inbox)
    InboxToken,
    Subscription,
)
from schemas.ytunnus import validate_business_id

# every contract by the name of its exported JSON Schema (schemas/<name>.schema.json)
CONTRACTS: dict[str, type[BaseModel]] = {
    "challenge": Challenge,
    "company-profile": CompanyProfile,
    "match-result": MatchResult,
    "subscription": Subscription,
    "inbox-token": InboxToken,
    "notification": Notification,
    "notification-dead-letter": NotificationDeadLetter,
    "dead-letter": DeadLetter,
}

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
