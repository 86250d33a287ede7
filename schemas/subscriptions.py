"""Contracts of the delivery side: webhook subscriptions and inbox tokens.

**Subscription** — compacted topic `subscriptions`, key = company_id, a null value (tombstone)
unsubscribes. The latest record of a company is its subscription: publishing again replaces it. Its
webhook secret travels sealed (services/delivery/sealing.py): reading the topic does not reveal it.
Without a webhook (no `url`, no `sealed_secret`) it subscribes the inbox only. Either way its
`min_score` is the company's alert threshold: the worker tells it of every challenge scoring at least
that much, whatever the challenge's shortlist.

**InboxToken** — compacted topic `inbox-tokens`, key = company_id, null = token revoked. Only the
SHA-256 of the token travels and is stored; the token itself is shown once, by the CLI that issues it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from schemas.events import Identifier, _Event

Delivery = Literal["instant", "digest"]


def _http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute https:// URL (http:// only to a loopback host in development)")
    return value


WebhookUrl = Annotated[str, Field(min_length=8, max_length=2048), AfterValidator(_http_url)]


def _now() -> datetime:
    return datetime.now(UTC)


class Subscription(_Event):
    """A company's alert threshold and webhook (or none: inbox only). Topic `subscriptions`, key = company_id;
    null value = unsubscribe."""

    company_id: Identifier
    url: WebhookUrl | None = Field(
        default=None,
        description="Webhook that receives POSTed JSON notifications: https on a public address "
        "(plain http only to a loopback host, in development). Redirects are not followed. "
        "Absent: inbox only (matches and alerts are kept for the inbox, nothing is POSTed).",
    )
    sealed_secret: str | None = Field(
        default=None,
        min_length=100,
        max_length=2048,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="The shared secret of the HMAC-SHA256 signature (X-Matchmaker-Signature), never in the clear: "
        'a Fernet token of {"company_id", "secret"} sealed with the subscriptions key, which only the '
        "notifier and the subscribe command hold.",
    )
    min_score: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Only matches with score >= min_score are sent; also the alert threshold: every open "
        "challenge scoring at least this much is announced (trigger alert), whatever its shortlist.",
    )
    delivery: Delivery = Field(
        default="instant", description="instant: one POST per match; digest: one POST per period."
    )
    updated_at: datetime = Field(default_factory=_now)

    @model_validator(mode="after")
    def _webhook_complete(self) -> Subscription:
        if (self.url is None) != (self.sealed_secret is None):
            raise ValueError("url and sealed_secret go together: both for a webhook, neither for the inbox only")
        return self

    @property
    def key(self) -> str:
        return self.company_id

    @property
    def webhook(self) -> bool:
        """True when notifications are POSTed; False for an inbox-only subscription."""
        return self.url is not None


class InboxToken(_Event):
    """The hash of a company's inbox token. Topic `inbox-tokens`, key = company_id; null value = revoked."""

    company_id: Identifier
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the bearer token")
    issued_at: datetime = Field(default_factory=_now)

    @property
    def key(self) -> str:
        return self.company_id
