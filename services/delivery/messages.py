"""The notifier's internal records, typed; the JSON in its topics and changelogs is unchanged.

    deliveries table (key match_id)     DeliveryEntry   one match's delivery to its company
    stale table                         services.versioning.Closure (as {"closed", "upto", "version"})
    <app>-notifier-control topic        ChallengeStatus a challenge's status, broadcast to every partition

Field names are the JSON keys written before these types existed, so changelogs written by an older
notifier still load; absent optional fields are left out of the JSON, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

PENDING, DELIVERED, DEAD, STALE, UNSUBSCRIBED, BELOW, INBOX_ONLY = (
    "pending",
    "delivered",
    "dead",
    "stale",
    "unsubscribed",
    "below-min-score",
    "inbox-only",  # the company subscribed without a webhook: nothing is POSTed, the inbox serves it
)


@dataclass(frozen=True, slots=True)
class DeliveryEntry:
    """What the notifier decided about one MatchResult, and how its delivery went.

    `match` (the MatchResult as JSON) is kept only while the entry is pending; a settled entry keeps
    the ids and versions, so a replayed MatchResult is still recognised.
    """

    company_id: str
    challenge_id: str
    challenge_version: int
    company_version: int
    score: float
    partition: int
    seen_at: str  # ISO 8601, UTC
    state: str = PENDING
    match: dict[str, Any] | None = None
    digest_id: str | None = None  # set when the entry was gathered into a digest
    digest_at: str | None = None
    settled_at: str | None = None
    attempts: int | None = None

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    def settled(self, state: str, at: str, attempts: int | None = None) -> DeliveryEntry:
        """The entry in a final state: the match payload is no longer needed, the match_id key remains."""
        return replace(
            self, state=state, match=None, settled_at=at, attempts=self.attempts if attempts is None else attempts
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: value for name in _ENTRY_FIELDS if (value := getattr(self, name)) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DeliveryEntry | None:
        if not data:
            return None
        return cls(**{name: data[name] for name in _ENTRY_FIELDS if name in data})


_ENTRY_FIELDS = tuple(f.name for f in fields(DeliveryEntry))


@dataclass(frozen=True, slots=True)
class ChallengeStatus:
    """A challenge's open/closed status for the notifier's control topic; version None = a tombstone."""

    challenge_id: str
    version: int | None
    closed: bool

    def to_json(self) -> bytes:
        return json.dumps({"challenge_id": self.challenge_id, "version": self.version, "closed": self.closed}).encode(
            "utf-8"
        )

    @classmethod
    def from_json(cls, raw: bytes) -> ChallengeStatus:
        data = json.loads(raw)
        return cls(data["challenge_id"], data["version"], data["closed"])


RETRYABLE, PERMANENT, REFUSED = "retryable", "permanent", "refused"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one webhook request came to, as the sender classified it; the ledger decides what follows.

    `kind` is DELIVERED (2xx), RETRYABLE (a timeout, a transport error, 408/429/5xx), PERMANENT
    (another answer, a redirect, or a URL no request can reach) or REFUSED (no request was made: the
    outbound policy refuses the destination, services/delivery/outbound.py); `error` says what went
    wrong, in words ("HTTP 503", "ReadTimeout"), for the log and the dead letter.
    """

    kind: str
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.kind == DELIVERED
