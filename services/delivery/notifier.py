"""The notifier: delivers each company's matches to its webhook, once, instantly or as a digest.

    matches ────────┐  (key company_id)        ┌─ deliveries table: match_id → state ──► per-company
    subscriptions ──┤  co-partitioned: same    │  (pending / delivered / dead / stale / skipped)   delivery task
    companies ──────┘  partition = same owner  │  subscriptions table: company_id → webhook       (httpx, retries,
    challenges ─► every partition of <app>-notifier-control ─► stale table (closed challenges)      backoff) ─► webhook
                                                                                       └─ gave up ─► notification-dead-letters

Its own Faust app and consumer group (`<MATCHMAKER_APP_ID>-notifier`). `matches`, `subscriptions`
and `companies` are all keyed by company_id with the same partition count, so Faust's co-partitioned
assignment gives one process a set of companies together with their subscriptions and their delivery
state. Challenges are keyed by challenge_id: a closing challenge is broadcast to every partition of the
internal control topic, so every owner learns about it.

Exactly one delivery per match and company: every match_id gets an entry in the `deliveries` table
(changelog-backed, recovered after restarts and rebalances) the first time it is seen; a replayed or
duplicated MatchResult finds it and is ignored. The entry turns `delivered` only after the receiver
answered 2xx, and that change is written to the table's changelog (acks=all) before the next
notification of that company goes out. Delivery runs in one asyncio task per company, off the Faust
agents, so a slow or dead webhook delays nobody else. Before partitions are revoked (rebalance) or the
process stops, in-flight attempts finish and their outcome is recorded; queued ones stay `pending` in
the table and the new owner sends them. Only a crash between the receiver's 2xx and that record can
repeat a notification; it then carries the same Idempotency-Key, so the receiver can drop it.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

import faust
import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from pydantic import ValidationError

from schemas import (
    Challenge,
    CompanyProfile,
    MatchResult,
    Notification,
    NotificationDeadLetter,
    Subscription,
)
from services.delivery.messages import (
    BELOW,
    DEAD,
    DELIVERED,
    PENDING,
    STALE,
    UNSUBSCRIBED,
    ChallengeStatus,
    DeliveryEntry,
)
from services.delivery.webhooks import signed_headers
from services.errors import ConfigurationError
from services.kafka import codec
from services.kafka.faust_app import make_app, run_faust_worker
from services.settings import Settings
from services.versioning import Closure

log = logging.getLogger("matchmaker.notifier")


@dataclass
class Job:
    notification_id: str
    kind: str  # "match" | "digest"
    company_id: str
    partition: int
    match_ids: list[str]


@dataclass
class CompanyDeliverer:
    """One company's delivery queue, worked by one task: the company's notifications go out in order."""

    company_id: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    busy: bool = False  # an HTTP attempt (and the record of its outcome) is in progress
    stopping: bool = False
    task: asyncio.Task | None = None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.delivered = Counter("matchmaker_notifications_delivered", "Notifications answered 2xx", ["type"], registry=r)
        self.matches_delivered = Counter("matchmaker_notified_matches", "Matches delivered (in any notification)", registry=r)
        self.attempts = Counter("matchmaker_notification_attempts", "Webhook requests", ["outcome"], registry=r)
        self.retries = Counter("matchmaker_notification_retries", "Attempts after a failed one", registry=r)
        self.dead = Counter("matchmaker_notification_dead_letters", "Notifications given up", ["type"], registry=r)
        self.replays = Counter("matchmaker_notifier_replayed_matches", "MatchResults already known (ignored)", registry=r)
        self.queued = Gauge("matchmaker_notifications_queued", "Notifications queued or in flight", registry=r)


class Notifier:
    def __init__(self, settings: Settings, partitions: int) -> None:
        self.settings = settings
        self.partitions = partitions
        self.app = make_app(settings, settings.notifier_app_id, partitions, settings.delivery.notifier_web_port)
        self.metrics = Metrics()
        self._deliverers: dict[str, CompanyDeliverer] = {}
        self._queued: set[str] = set()  # notification ids queued or in flight in this process
        self._ready = False  # tables recovered for the current assignment
        self._client: httpx.AsyncClient | None = None
        self._declare()

    # -- topology -----------------------------------------------------------------------------
    def _declare(self) -> None:
        s, app = self.settings, self.app
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.matches = app.topic(s.topic_matches, **raw)
        self.subscriptions_topic = app.topic(s.delivery.topic_subscriptions, **raw)
        self.companies_topic = app.topic(s.topic_companies, **raw)
        self.challenges_topic = app.topic(s.topic_challenges, **raw)
        self.control = app.topic(s.notifier_control_topic, partitions=self.partitions, internal=True, **raw)
        self.dead_letters = app.topic(s.delivery.topic_notification_dead_letters, **raw)
        schema = faust.Schema(key_serializer="json", value_serializer="json")
        table = {"default": None, "partitions": self.partitions, "schema": schema}
        self.subscriptions = app.Table("subscriptions", **table)  # company_id → Subscription (json)
        self.deliveries = app.Table("deliveries", **table)  # match_id → DeliveryEntry (as a dict)
        self.stale = app.Table("stale", **table)  # "company/<id>" | "challenge/<partition>/<id>" → Closure (as a dict)
        app.agent(self.matches, name="notify-matches")(self._matches_agent)
        app.agent(self.subscriptions_topic, name="notify-subscriptions")(self._subscriptions_agent)
        app.agent(self.companies_topic, name="notify-companies")(self._companies_agent)
        app.agent(self.challenges_topic, name="notify-challenges")(self._challenges_agent)
        app.agent(self.control, name="notify-control")(self._control_agent)
        app.task(self._sweeper)
        app.task(self._digest_clock)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_rebalance_complete.connect(self._on_rebalance_complete)
        app.on_before_shutdown.connect(self._on_shutdown)
        registry = self.metrics.registry

        async def metrics_page(view, request):  # Faust web: GET /metrics (Prometheus text format)
            return view.bytes(generate_latest(registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

        app.page("/metrics")(metrics_page)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.delivery.notify_timeout,
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
                follow_redirects=False,
            )
        return self._client

    # -- agents: every table change happens here, in stream context ---------------------------------
    async def _matches_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            if message.value is None:
                continue
            try:
                result = MatchResult.model_validate_json(message.value)
            except ValidationError as error:
                log.warning("ignored invalid MatchResult at %s[%s]@%s: %s", message.topic, message.partition, message.offset,
                            codec.describe_validation_error(error))
                continue
            self._on_match(result, message.partition)

    def _on_match(self, result: MatchResult, partition: int) -> None:
        if self.deliveries.get(result.match_id) is not None:
            self.metrics.replays.inc()  # a replay or a duplicate: already decided, never twice
            return
        entry = DeliveryEntry(
            company_id=result.company_id,
            challenge_id=result.challenge_id,
            challenge_version=result.challenge_version,
            company_version=result.company_version,
            score=result.score,
            partition=partition,
            seen_at=_now(),
        )
        subscription = self.subscriptions.get(result.company_id)
        if self._is_stale(entry):
            entry = replace(entry, state=STALE)
        elif subscription is None:
            entry = replace(entry, state=UNSUBSCRIBED)
        elif result.score < subscription["min_score"]:
            entry = replace(entry, state=BELOW)
        else:
            entry = replace(entry, state=PENDING, match=result.model_dump(mode="json"))
        self.deliveries[result.match_id] = entry.to_dict()
        if entry.pending and subscription["delivery"] == "instant":
            self._enqueue(Job(result.match_id, "match", result.company_id, partition, [result.match_id]))

    async def _subscriptions_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            key = message.key.decode("utf-8", errors="replace") if message.key else None
            if message.value is None:
                if key and self.subscriptions.get(key) is not None:
                    self.subscriptions[key] = None  # unsubscribed; pending entries are dropped by the sweeper
                continue
            try:
                subscription = Subscription.model_validate_json(message.value)
            except ValidationError as error:
                log.warning("ignored invalid subscription %r: %s", key, codec.describe_validation_error(error))
                continue
            if key is not None and key != subscription.company_id:
                log.warning("ignored subscription: key %r differs from company_id %r", key, subscription.company_id)
                continue
            self.subscriptions[subscription.company_id] = subscription.model_dump(mode="json")

    async def _companies_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            decoded = codec.decode("company", message.key, message.value)
            if isinstance(decoded, codec.Tombstone):
                self._apply_status(f"company/{decoded.key}", None, closed=True)
            elif isinstance(decoded, CompanyProfile):
                key = f"company/{decoded.company_id}"
                if self._apply_status(key, decoded.version, closed=decoded.status == "withdrawn"):
                    self._drop_pending(lambda e, cid=decoded.company_id: e.company_id == cid, message.partition)
                continue
            else:
                continue  # invalid: the worker dead-letters it
            self._drop_pending(lambda e, cid=decoded.key: e.company_id == cid, message.partition)

    async def _challenges_agent(self, stream: faust.StreamT) -> None:
        """Challenges are keyed by challenge_id: tell every partition's owner about status changes."""
        async for event in stream.events():
            message = event.message
            decoded = codec.decode("challenge", message.key, message.value)
            if isinstance(decoded, codec.Tombstone):
                control = ChallengeStatus(decoded.key, None, closed=True)
            elif isinstance(decoded, Challenge):
                control = ChallengeStatus(decoded.challenge_id, decoded.version, closed=decoded.status == "closed")
            else:
                continue
            value = control.to_json()
            key = control.challenge_id.encode("utf-8")
            pending = [await self.control.send(key=key, value=value, partition=p) for p in range(self.partitions)]
            await asyncio.gather(*pending)

    async def _control_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            control = ChallengeStatus.from_json(message.value)
            partition, challenge_id = message.partition, control.challenge_id
            if self._apply_status(f"challenge/{partition}/{challenge_id}", control.version, closed=control.closed):
                self._drop_pending(lambda e: e.challenge_id == challenge_id, partition)

    def _apply_status(self, key: str, version: int | None, closed: bool) -> bool:
        """Record an entity's open/closed state; True when it is (now) closed. `version` None = tombstone.

        The rule (services/versioning.py, `Closure`): an older event changes nothing; matches of
        versions up to the highest closed one stay stale even if the entity is re-opened later.
        """
        stored = self.stale.get(key)
        current = Closure.from_dict(stored)
        if not current.accepts(version):
            return False  # an older event
        state = current.apply(version, closed).to_dict()
        if state != stored:
            self.stale[key] = state
        return closed

    def _is_stale(self, entry: DeliveryEntry) -> bool:
        return (self._hides(f"company/{entry.company_id}", entry.company_version)
                or self._hides(f"challenge/{entry.partition}/{entry.challenge_id}", entry.challenge_version))

    def _hides(self, key: str, version: int) -> bool:
        stored = self.stale.get(key)
        return bool(stored) and Closure.from_dict(stored).hides(version)

    def _entries(self) -> list[tuple[str, DeliveryEntry]]:
        """The delivery table's entries (a snapshot: callers change the table while iterating)."""
        entries = []
        for match_id, value in list(self.deliveries.items()):
            entry = DeliveryEntry.from_dict(value)
            if entry is not None:
                entries.append((match_id, entry))
        return entries

    def _drop_pending(self, predicate: Callable[[DeliveryEntry], bool], partition: int) -> None:
        """A closed challenge or withdrawn company: its pending notifications (and digest items) go."""
        for match_id, entry in self._entries():
            if entry.pending and entry.partition == partition and predicate(entry):
                self.deliveries[match_id] = entry.settled(STALE, _now()).to_dict()

    # -- table writes outside stream context (delivery tasks, clocks) --------------------------------
    async def _write(self, partition: int, updates: dict[str, DeliveryEntry]) -> None:
        """Change delivery entries from a delivery task: to the changelog (acks=all), then in memory.

        Faust's `table[key] = value` needs the current event to pick the changelog partition; here
        the partition is the company's (its entries' own), passed explicitly. The changelog goes
        through the same producer buffer as the agents' writes, so it keeps their order.
        """
        futures = []
        for key, entry in updates.items():
            value = entry.to_dict()
            futures.append(self.deliveries.send_changelog(partition, key, value))
            self.deliveries.data[key] = value
        await asyncio.gather(*futures)

    # -- queueing -------------------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        if job.notification_id in self._queued:
            return
        deliverer = self._deliverers.get(job.company_id)
        if deliverer is None or deliverer.stopping:
            deliverer = CompanyDeliverer(job.company_id)
            # a fresh context: the task must not inherit the agent's current event
            deliverer.task = asyncio.get_running_loop().create_task(self._work(deliverer), context=contextvars.Context())
            self._deliverers[job.company_id] = deliverer
        self._queued.add(job.notification_id)
        self.metrics.queued.set(len(self._queued))
        deliverer.queue.put_nowait(job)

    def _owned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == self.settings.topic_matches}

    def _is_ready(self) -> bool:
        app = self.app
        return self._ready and not app.rebalancing and not app.in_recovery and not app.should_stop

    async def _on_rebalance_complete(self, app: faust.App, **_: Any) -> None:
        self._ready = True  # tables of the new assignment are recovered: the sweeper may resume

    async def _on_revoked(self, app: faust.App, revoked: set, **_: Any) -> None:
        self._ready = False
        await self._stop_deliverers()

    async def _on_shutdown(self, app: faust.App, **_: Any) -> None:
        self._ready = False
        await self._stop_deliverers()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _stop_deliverers(self) -> None:
        """Let in-flight attempts finish and record their outcome; drop the queues (entries stay pending)."""
        deliverers, self._deliverers = list(self._deliverers.values()), {}
        for deliverer in deliverers:
            deliverer.stopping = True
            if not deliverer.busy and deliverer.task is not None:
                deliverer.task.cancel()
        tasks = [d.task for d in deliverers if d.task is not None]
        if tasks:
            done, still = await asyncio.wait(tasks, timeout=self.settings.delivery.notify_timeout + 5.0)
            for task in still:
                task.cancel()
        self._queued.clear()
        self.metrics.queued.set(0)

    # -- clocks ---------------------------------------------------------------------------------
    async def _sweeper(self) -> None:
        """(Re)start pending deliveries: after recovery, after a rebalance, after a restart."""
        while not self.app.should_stop:
            await asyncio.sleep(self.settings.delivery.notifier_sweep_interval)
            if self._is_ready():
                try:
                    await self._sweep()
                except Exception:  # keep the clock alive
                    log.exception("sweep failed")

    async def _sweep(self) -> None:
        owned = self._owned_partitions()
        digests: dict[str, list[str]] = {}
        unsubscribed: dict[int, dict[str, DeliveryEntry]] = {}
        firsts: dict[str, DeliveryEntry] = {}
        for match_id, entry in self._entries():
            if not entry.pending or entry.partition not in owned:
                continue
            subscription = self.subscriptions.get(entry.company_id)
            if subscription is None:
                unsubscribed.setdefault(entry.partition, {})[match_id] = entry.settled(UNSUBSCRIBED, _now())
            elif entry.digest_id:
                digests.setdefault(entry.digest_id, []).append(match_id)
                firsts.setdefault(entry.digest_id, entry)
            elif subscription["delivery"] == "instant":
                self._enqueue(Job(match_id, "match", entry.company_id, entry.partition, [match_id]))
        for digest_id, match_ids in digests.items():
            entry = firsts[digest_id]
            self._enqueue(Job(digest_id, "digest", entry.company_id, entry.partition, sorted(match_ids)))
        for partition, updates in unsubscribed.items():
            await self._write(partition, updates)

    async def _digest_clock(self) -> None:
        """At every period boundary, gather each digest company's pending matches into one notification."""
        period, offset = self.settings.delivery.digest_period, self.settings.delivery.digest_offset
        while not self.app.should_stop:
            await asyncio.sleep(period - ((time.time() - offset) % period) + 0.001)
            while not self._is_ready() and not self.app.should_stop:
                await asyncio.sleep(0.2)
            try:
                await self._form_digests()
            except Exception:
                log.exception("digest failed")

    async def _form_digests(self) -> None:
        owned = self._owned_partitions()
        gathered: dict[str, list[tuple[str, DeliveryEntry]]] = {}
        for match_id, entry in self._entries():
            if entry.pending and not entry.digest_id and entry.partition in owned:
                subscription = self.subscriptions.get(entry.company_id)
                if subscription is not None and subscription["delivery"] == "digest":
                    gathered.setdefault(entry.company_id, []).append((match_id, entry))
        formed_at = _now()
        for company_id, items in gathered.items():
            match_ids = sorted(match_id for match_id, _ in items)
            digest_id = "digest-" + hashlib.sha256("\x1f".join([company_id, *match_ids]).encode()).hexdigest()[:32]
            partition = items[0][1].partition
            # the digest's membership is recorded first: a restart re-sends the same digest (same id)
            await self._write(partition, {m: replace(e, digest_id=digest_id, digest_at=formed_at) for m, e in items})
            self._enqueue(Job(digest_id, "digest", company_id, partition, match_ids))

    # -- delivery -------------------------------------------------------------------------------
    async def _work(self, deliverer: CompanyDeliverer) -> None:
        while not deliverer.stopping:
            job = await deliverer.queue.get()
            try:
                await self._deliver(job, deliverer)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad notification must not stop the company's queue
                log.exception("delivery of %s to %s failed", job.notification_id, job.company_id)
            finally:
                self._queued.discard(job.notification_id)
                self.metrics.queued.set(len(self._queued))

    async def _deliver(self, job: Job, deliverer: CompanyDeliverer) -> None:
        s = self.settings
        live: dict[str, DeliveryEntry] = {}
        settled: dict[str, DeliveryEntry] = {}
        for match_id in job.match_ids:
            entry = DeliveryEntry.from_dict(self.deliveries.get(match_id))
            if entry is None or not entry.pending:
                continue
            if self._is_stale(entry):
                settled[match_id] = entry.settled(STALE, _now())
            else:
                live[match_id] = entry
        subscription = self.subscriptions.get(job.company_id)
        if subscription is None:
            settled.update({m: e.settled(UNSUBSCRIBED, _now()) for m, e in live.items()})
            live = {}
        if settled:
            await self._write(job.partition, settled)
        if not live:
            return
        matches = sorted((e.match for e in live.values() if e.match), key=lambda m: (-m["score"], m["match_id"]))
        first = next(iter(live.values()))
        notification = Notification(
            notification_id=job.notification_id,
            type=job.kind,
            company_id=job.company_id,
            sent_at=first.digest_at or first.seen_at,
            matches=matches,
        )
        body = notification.model_dump_json().encode("utf-8")
        error = ""
        for attempt in range(1, s.delivery.notify_attempts + 1):
            if deliverer.stopping:
                return  # revoked or stopping: stays pending, the (new) owner sends it
            if attempt > 1:
                self.metrics.retries.inc()
            deliverer.busy = True
            try:
                ok, error = await self._post(subscription, body, job)
                self.metrics.attempts.labels("ok" if ok else "error").inc()
                if ok:
                    await self._write(job.partition, {m: e.settled(DELIVERED, _now(), attempts=attempt) for m, e in live.items()})
                    self.metrics.delivered.labels(job.kind).inc()
                    self.metrics.matches_delivered.inc(len(live))
                    log.info("delivered %s %s to %s after %d attempt(s)", job.kind, job.notification_id, job.company_id, attempt)
                    return
            finally:
                deliverer.busy = False
            log.info("attempt %d of %s to %s failed: %s", attempt, job.notification_id, job.company_id, error)
            if attempt < s.delivery.notify_attempts:
                if deliverer.stopping:
                    return
                await asyncio.sleep(min(s.delivery.notify_base_delay * 2 ** (attempt - 1), s.delivery.notify_max_delay))
        deliverer.busy = True  # the dead letter and its record belong together
        try:
            letter = NotificationDeadLetter(
                notification_id=job.notification_id,
                type=job.kind,
                company_id=job.company_id,
                url=subscription["url"],
                match_ids=list(live),
                attempts=s.delivery.notify_attempts,
                last_error=error,
                failed_at=datetime.now(timezone.utc),
                notification=notification,
            )
            sent = await self.dead_letters.send(key=job.company_id.encode(), value=letter.model_dump_json().encode("utf-8"))
            await sent
            await self._write(job.partition, {m: e.settled(DEAD, _now(), attempts=s.delivery.notify_attempts) for m, e in live.items()})
            self.metrics.dead.labels(job.kind).inc()
            log.warning("gave up %s %s to %s after %d attempts: %s", job.kind, job.notification_id, job.company_id,
                        s.delivery.notify_attempts, error)
        finally:
            deliverer.busy = False

    async def _post(self, subscription: dict, body: bytes, job: Job) -> tuple[bool, str]:
        headers = signed_headers(subscription["secret"], body, job.notification_id, job.kind)
        try:
            async with asyncio.timeout(self.settings.delivery.notify_timeout):
                response = await self.client.post(subscription["url"], content=body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as error:
            return False, f"{type(error).__name__}: {error}".rstrip(": ")
        if 200 <= response.status_code < 300:
            return True, ""
        return False, f"HTTP {response.status_code}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def notifier_partitions(settings: Settings) -> int:
    """`matches`, `subscriptions` and `companies` must be co-partitioned: same partition count."""
    from services.delivery.subscriptions import partition_counts

    topics = [settings.topic_matches, settings.delivery.topic_subscriptions, settings.topic_companies]
    counts = partition_counts(settings, topics)
    if len(set(counts.values())) != 1 or set(counts) != set(topics):
        raise ConfigurationError(
            "the notifier needs matches, subscriptions and companies with the same number of partitions "
            f"(all keyed by company_id), found {counts}"
        )
    return counts[settings.topic_matches]


def run_notifier(settings: Settings) -> None:
    """Run one notifier process until SIGTERM/SIGINT."""
    from services.delivery.subscriptions import ensure_notifier_topics, ensure_topic

    ensure_notifier_topics(settings)
    partitions = notifier_partitions(settings)
    # created here, not by Faust on first use, so that every process subscribes to it from the start
    ensure_topic(settings, settings.notifier_control_topic, partitions)
    notifier = Notifier(settings, partitions)
    run_faust_worker(notifier.app)
