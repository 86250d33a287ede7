"""The notifier's decisions, pure: what to record and what to send, given what is known and what happened.

No Faust, Kafka, HTTP, asyncio or clock here: the notifier (services/delivery/notifier.py) reads its
tables and topics, passes the current records and the time `now` in, stores the returned entries and
hands the returned sends to the sender (services/delivery/sender.py). So every rule of delivery is
written once and tested without a broker (tests/unit/test_delivery_ledger.py).

    input                               decision
    a MatchResult (any trigger: the      on_match       → its entry (pending / below / unsubscribed / inbox-only
    shortlist's, a company's, an alert)                   / stale)
                                                         and, for an instant subscription, a Send; None if known
    a challenge or company status       on_status      → the Closure to store; if closed, close_company /
                                                         close_challenge → the pending entries that turn stale
    a sweep (after recovery, rebalance) sweep          → Sends to (re)start, entries of unsubscribed companies
    a digest boundary                   form_digests   → per digest company: its members (recorded first), a Send
    a Send about to go out              prepare        → stale / unsubscribed entries to settle, the Notification
    the sender's Outcome of an attempt  on_outcome     → Delivered / Retry (after backoff) / GiveUp (dead letter)

Keys of the `stale` table: company_key(company_id) and challenge_key(partition, challenge_id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from schemas import MatchResult, Notification, NotificationDeadLetter, Subscription
from services.delivery.messages import (
    BELOW,
    DEAD,
    DELIVERED,
    INBOX_ONLY,
    PENDING,
    REFUSED,
    STALE,
    UNSUBSCRIBED,
    DeliveryEntry,
    Outcome,
)
from services.versioning import Closure

ClosureLookup = Callable[[str], "Closure | None"]  # stale-table key → its Closure (None: nothing recorded)
SubscriptionLookup = Callable[[str], "Subscription | None"]  # company_id → its subscription (None: none)
Updates = dict[str, DeliveryEntry]  # match_id → the entry to write


# -- schedules ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one notification is tried (MATCHMAKER_NOTIFY_*)."""

    attempts: int
    base_delay: float
    max_delay: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based): base * 2**(attempt-1), capped at max."""
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay)


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """Digests go out when (unix time - offset) is a multiple of the period (MATCHMAKER_DIGEST_*)."""

    period: float
    offset: float

    def next_due(self, now: float) -> float:
        """The first boundary strictly after `now` (unix seconds)."""
        return now + self.period - ((now - self.offset) % self.period)


# -- what goes out ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Send:
    """One notification to send: its id is the Idempotency-Key (the match_id, or the digest id).

    `partition` is the company's: the changelog partition where its entries' outcome is recorded.
    """

    notification_id: str
    kind: str  # "match" | "digest"
    company_id: str
    partition: int
    match_ids: tuple[str, ...]


def company_key(company_id: str) -> str:
    return f"company/{company_id}"


def challenge_key(partition: int, challenge_id: str) -> str:
    """Challenges are broadcast to every partition: each partition's owner keeps its own record."""
    return f"challenge/{partition}/{challenge_id}"


def is_stale(entry: DeliveryEntry, closures: ClosureLookup) -> bool:
    """True when the match's company was withdrawn or its challenge closed (at or after its version)."""
    return _hides(closures(company_key(entry.company_id)), entry.company_version) or _hides(
        closures(challenge_key(entry.partition, entry.challenge_id)), entry.challenge_version
    )


def _hides(closure: Closure | None, version: int) -> bool:
    return closure is not None and closure.hides(version)


# -- a MatchResult ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MatchDecision:
    entry: DeliveryEntry | None  # to store under the match_id; None: already known (a replay), nothing to do
    send: Send | None = None  # an instant notification to send now

    @property
    def replay(self) -> bool:
        return self.entry is None


def on_match(
    result: MatchResult,
    partition: int,
    known: bool,
    subscription: Subscription | None,
    closures: ClosureLookup,
    now: datetime,
) -> MatchDecision:
    """Decide a MatchResult once: `known` (its match_id has an entry) means a replay or duplicate."""
    if known:
        return MatchDecision(None)
    entry = DeliveryEntry(
        company_id=result.company_id,
        challenge_id=result.challenge_id,
        challenge_version=result.challenge_version,
        company_version=result.company_version,
        score=result.score,
        partition=partition,
        seen_at=now.isoformat(),
    )
    if is_stale(entry, closures):
        return MatchDecision(replace(entry, state=STALE))
    if subscription is None:
        return MatchDecision(replace(entry, state=UNSUBSCRIBED))
    if result.score < subscription.min_score:
        return MatchDecision(replace(entry, state=BELOW))
    if not subscription.webhook:
        return MatchDecision(replace(entry, state=INBOX_ONLY))
    entry = replace(entry, state=PENDING, match=result.model_dump(mode="json"))
    if subscription.delivery == "instant":
        return MatchDecision(entry, Send(result.match_id, "match", result.company_id, partition, (result.match_id,)))
    return MatchDecision(entry)  # digest: gathered at the next boundary


# -- a status change ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StatusChange:
    closure: Closure | None  # the state to store under the key; None: unchanged
    closed: bool  # the entity is (now) closed: its pending entries turn stale


def on_status(stored: Closure | None, version: int | None, closed: bool) -> StatusChange:
    """A challenge's or company's status event; `version` None is a tombstone (it closes).

    The rule is services/versioning.py's `Closure`: an older event changes nothing; matches of
    versions up to the highest closed one stay stale even if the entity is re-opened later.
    """
    current = Closure() if stored is None else stored
    if not current.accepts(version):
        return StatusChange(None, False)
    state = current.apply(version, closed)
    return StatusChange(state if state != stored else None, closed)


def close_company(entries: Mapping[str, DeliveryEntry], company_id: str, partition: int, now: datetime) -> Updates:
    """A withdrawn (or deleted) company: its pending notifications and digest items on `partition` go."""
    return _settle_pending(entries, partition, lambda e: e.company_id == company_id, STALE, now)


def close_challenge(entries: Mapping[str, DeliveryEntry], challenge_id: str, partition: int, now: datetime) -> Updates:
    """A closed (or deleted) challenge: its pending notifications and digest items on `partition` go."""
    return _settle_pending(entries, partition, lambda e: e.challenge_id == challenge_id, STALE, now)


def _settle_pending(
    entries: Mapping[str, DeliveryEntry],
    partition: int,
    which: Callable[[DeliveryEntry], bool],
    state: str,
    now: datetime,
) -> Updates:
    at = now.isoformat()
    return {m: e.settled(state, at) for m, e in entries.items() if e.pending and e.partition == partition and which(e)}


# -- a sweep ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sweep:
    sends: list[Send]  # pending instant matches and formed digests to (re)start, in this order
    settle: dict[int, Updates]  # per partition: pending entries of companies no longer subscribed


def sweep(
    entries: Mapping[str, DeliveryEntry], owned: Collection[int], subscriptions: SubscriptionLookup, now: datetime
) -> Sweep:
    """What is pending on the owned partitions after a recovery, a rebalance or a restart.

    Pending digest-mode matches not yet in a digest wait for the next boundary (form_digests).
    """
    at = now.isoformat()
    sends: list[Send] = []
    digests: dict[str, list[str]] = {}
    firsts: dict[str, DeliveryEntry] = {}
    settle: dict[int, Updates] = {}
    for match_id, entry in entries.items():
        if not entry.pending or entry.partition not in owned:
            continue
        subscription = subscriptions(entry.company_id)
        if subscription is None or not subscription.webhook:
            state = UNSUBSCRIBED if subscription is None else INBOX_ONLY
            settle.setdefault(entry.partition, {})[match_id] = entry.settled(state, at)
        elif entry.digest_id:
            digests.setdefault(entry.digest_id, []).append(match_id)
            firsts.setdefault(entry.digest_id, entry)
        elif subscription.delivery == "instant":
            sends.append(Send(match_id, "match", entry.company_id, entry.partition, (match_id,)))
    for digest, match_ids in digests.items():
        first = firsts[digest]
        sends.append(Send(digest, "digest", first.company_id, first.partition, tuple(sorted(match_ids))))
    return Sweep(sends, settle)


# -- a digest boundary --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Digest:
    members: Updates  # the entries with their digest_id: recorded before the send, so a restart re-sends it
    send: Send


def digest_id(company_id: str, match_ids: list[str]) -> str:
    """The same members give the same id: a re-sent digest carries the same Idempotency-Key."""
    return "digest-" + hashlib.sha256("\x1f".join([company_id, *match_ids]).encode()).hexdigest()[:32]


def form_digests(
    entries: Mapping[str, DeliveryEntry], owned: Collection[int], subscriptions: SubscriptionLookup, now: datetime
) -> list[Digest]:
    """At a boundary: each digest company's pending matches not yet in a digest become one digest."""
    gathered: dict[str, list[tuple[str, DeliveryEntry]]] = {}
    for match_id, entry in entries.items():
        if entry.pending and not entry.digest_id and entry.partition in owned:
            subscription = subscriptions(entry.company_id)
            if subscription is not None and subscription.webhook and subscription.delivery == "digest":
                gathered.setdefault(entry.company_id, []).append((match_id, entry))
    at = now.isoformat()
    digests = []
    for company_id, items in gathered.items():
        match_ids = sorted(match_id for match_id, _ in items)
        digest = digest_id(company_id, match_ids)
        partition = items[0][1].partition
        members = {m: replace(e, digest_id=digest, digest_at=at) for m, e in items}
        digests.append(Digest(members, Send(digest, "digest", company_id, partition, tuple(match_ids))))
    return digests


# -- a send -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Prepared:
    settle: Updates  # entries that turned stale or unsubscribed meanwhile: recorded, not sent
    live: Updates  # the entries the notification carries
    notification: Notification | None  # None: nothing left to send


def prepare(
    send: Send,
    entries: Mapping[str, DeliveryEntry | None],
    subscription: Subscription | None,
    closures: ClosureLookup,
    now: datetime,
) -> Prepared:
    """Just before the first attempt: what of `send` is still to go out, as which Notification.

    `entries` are the current entries of send.match_ids (None: none). Entries already settled
    (delivered by an earlier owner, for example) are left alone.
    """
    at = now.isoformat()
    live: Updates = {}
    settle: Updates = {}
    for match_id in send.match_ids:
        entry = entries.get(match_id)
        if entry is None or not entry.pending:
            continue
        if is_stale(entry, closures):
            settle[match_id] = entry.settled(STALE, at)
        else:
            live[match_id] = entry
    if subscription is None or not subscription.webhook:
        state = UNSUBSCRIBED if subscription is None else INBOX_ONLY
        settle.update({m: e.settled(state, at) for m, e in live.items()})
        live = {}
    if not live:
        return Prepared(settle, live, None)
    matches = sorted((e.match for e in live.values() if e.match), key=lambda m: (-m["score"], m["match_id"]))
    first = next(iter(live.values()))
    notification = Notification.model_validate(
        {
            "notification_id": send.notification_id,
            "type": send.kind,
            "company_id": send.company_id,
            "sent_at": first.digest_at or first.seen_at,
            "matches": matches,
        }
    )
    return Prepared(settle, live, notification)


# -- an attempt's outcome -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delivered:
    settle: Updates  # the live entries, delivered


@dataclass(frozen=True, slots=True)
class Retry:
    attempt: int  # the next attempt's number
    delay: float  # seconds from now
    due: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    settle: Updates  # the live entries, dead
    letter: NotificationDeadLetter  # to the notification dead-letter topic, before the entries are recorded


def on_outcome(
    prepared: Prepared, url: str, attempt: int, outcome: Outcome, policy: RetryPolicy, now: datetime
) -> Delivered | Retry | GiveUp:
    """After attempt number `attempt` (1-based) of a prepared notification came to `outcome`.

    Every failed attempt is followed by another until `policy.attempts` were made, PERMANENT ones
    included (a receiver answering 404 or 410 may be fixed within the backoff): then a dead letter.
    A REFUSED destination (an internal address: services/delivery/outbound.py) is dead-lettered at
    once: retrying would only knock on the same internal door again.
    """
    at = now.isoformat()
    if outcome.delivered:
        return Delivered({m: e.settled(DELIVERED, at, attempts=attempt) for m, e in prepared.live.items()})
    if attempt < policy.attempts and outcome.kind != REFUSED:
        delay = policy.delay(attempt)
        return Retry(attempt + 1, delay, now + timedelta(seconds=delay))
    assert prepared.notification is not None, "only a prepared notification is attempted"
    notification = prepared.notification
    letter = NotificationDeadLetter(
        notification_id=notification.notification_id,
        type=notification.type,
        company_id=notification.company_id,
        url=url,
        match_ids=list(prepared.live),
        attempts=attempt,
        last_error=outcome.error,
        failed_at=now,
        notification=notification,
    )
    return GiveUp({m: e.settled(DEAD, at, attempts=attempt) for m, e in prepared.live.items()}, letter)
