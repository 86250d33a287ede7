"""What the notifier sends: the webhook body, and the dead-letter record of a notification that failed.

**Notification** — the JSON body POSTed to a company's webhook. `type` is `match` (one match,
`notification_id` = its match_id) or `digest` (the company's matches of one period). Headers:
`X-Matchmaker-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`,
`X-Matchmaker-Timestamp: <unix seconds>`, `Idempotency-Key: <notification_id>`.

**NotificationDeadLetter** — topic `notification-dead-letters`, key = company_id: a notification
that still failed after the configured attempts (the secret is never included).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.events import MatchResult, _Event


class Notification(_Event):
    """Body of a webhook POST."""

    notification_id: str = Field(
        description="Idempotency key: the match_id (type match) or the digest id (type digest)."
    )
    type: Literal["match", "digest"]
    company_id: str
    sent_at: datetime = Field(description="When this notification was first built (UTC).")
    matches: list[MatchResult] = Field(description="One match (type match) or the period's matches, best score first.")


class NotificationDeadLetter(_Event):
    """A notification given up after the configured attempts. Topic `notification-dead-letters`."""

    notification_id: str
    type: Literal["match", "digest"]
    company_id: str
    url: str
    match_ids: list[str]
    attempts: int = Field(ge=1)
    last_error: str = Field(description="The last HTTP status or transport error, in words.")
    failed_at: datetime
    notification: Notification
