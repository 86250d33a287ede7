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

This module is the wiring: agents read the topics, ask services/delivery/ledger.py (pure: every
delivery decision, retry and digest schedule) what to do, persist what it returns in the tables and
run the sends through services/delivery/sender.py (the signed HTTP request and its outcome).

Webhook secrets stay sealed (services/delivery/sealing.py) on the topic and in the `subscriptions` table
and its changelog: each attempt unseals the company's secret with the key file just before signing. A
secret that does not unseal (another key, an altered record) fails that attempt without a request,
logged, and the notification ends in the dead letters like any other that cannot be delivered.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from pydantic import ValidationError

from schemas import Challenge, CompanyProfile, MatchResult, Subscription
from services.delivery import ledger
from services.delivery.keyfile import KeyFile, key_path
from services.delivery.ledger import Send
from services.delivery.messages import PENDING, PERMANENT, REFUSED, ChallengeStatus, DeliveryEntry, Outcome
from services.delivery.sealing import UnsealError
from services.delivery.sender import Sender
from services.errors import ConfigurationError
from services.kafka import codec
from services.kafka.faust_app import json_table, make_app, raw_topic, run_faust_worker
from services.ops.access import guard_faust_web
from services.settings import Settings
from services.versioning import Closure

log = logging.getLogger("matchmaker.notifier")


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
        self.delivered = Counter(
            "matchmaker_notifications_delivered", "Notifications answered 2xx", ["type"], registry=r
        )
        self.matches_delivered = Counter(
            "matchmaker_notified_matches", "Matches delivered (in any notification)", registry=r
        )
        self.attempts = Counter(
            "matchmaker_notification_attempts",
            "Webhook attempts (outcome: ok, error, refused)",
            ["outcome"],
            registry=r,
        )
        self.retries = Counter("matchmaker_notification_retries", "Attempts after a failed one", registry=r)
        self.dead = Counter("matchmaker_notification_dead_letters", "Notifications given up", ["type"], registry=r)
        self.replays = Counter(
            "matchmaker_notifier_replayed_matches", "MatchResults already known (ignored)", registry=r
        )
        self.queued = Gauge("matchmaker_notifications_queued", "Notifications queued or in flight", registry=r)


class Notifier:
    def __init__(self, settings: Settings, partitions: int) -> None:
        self.settings = settings
        self.partitions = partitions
        d = settings.delivery
        # in memory whatever MATCHMAKER_STORE says: delivery tasks write entries outside a stream event (`_write`),
        # which Faust's RocksDB store cannot place, and the sweeper scans every entry each few seconds
        self.app = make_app(
            settings, settings.notifier_app_id, partitions, d.notifier_web_port, d.notifier_web_host, store="memory"
        )
        guard_faust_web(self.app, settings, d.notifier_web_host, "notifier's web server")
        self.metrics = Metrics()
        self._deliverers: dict[str, CompanyDeliverer] = {}
        self._queued: set[str] = set()  # notification ids queued or in flight in this process
        self._ready = False  # tables recovered for the current assignment
        self.sender = Sender(d.notify_timeout, allow_loopback=d.notify_allow_loopback_http)
        self.keys = KeyFile(key_path(settings))
        self._unreadable: set[str] = set()  # companies whose stored subscription no longer validates (logged once)
        self.retry = ledger.RetryPolicy(d.notify_attempts, d.notify_base_delay, d.notify_max_delay)
        self.digests = ledger.DigestSchedule(d.digest_period, d.digest_offset)
        self._declare()

    # -- topology -----------------------------------------------------------------------------
    def _declare(self) -> None:
        s, app = self.settings, self.app
        self.matches = raw_topic(app, s.topic_matches)
        self.subscriptions_topic = raw_topic(app, s.delivery.topic_subscriptions)
        self.companies_topic = raw_topic(app, s.topic_companies)
        self.challenges_topic = raw_topic(app, *s.challenge_topics)
        self.control = raw_topic(app, s.notifier_control_topic, partitions=self.partitions, internal=True)
        self.dead_letters = raw_topic(app, s.delivery.topic_notification_dead_letters)
        self.subscriptions = json_table(app, "subscriptions", self.partitions)  # company_id → Subscription (json)
        self.deliveries = json_table(app, "deliveries", self.partitions)  # match_id → DeliveryEntry (as a dict)
        self.stale = json_table(
            app, "stale", self.partitions
        )  # "company/<id>" | "challenge/<partition>/<id>" → Closure (as a dict)
        app.agent(self.matches, name="notify-matches")(self._matches_agent)
        app.agent(self.subscriptions_topic, name="notify-subscriptions")(self._subscriptions_agent)
        app.agent(self.companies_topic, name="notify-companies")(self._companies_agent)
        app.agent(self.challenges_topic, name="notify-challenges")(self._challenges_agent)
        app.agent(self.control, name="notify-control")(self._control_agent)
        app.task(self._sweeper)
        app.task(self._digest_clock)
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]  # Faust's signal type
        app.on_rebalance_complete.connect(self._on_rebalance_complete)  # type: ignore[arg-type]
        app.on_before_shutdown.connect(self._on_shutdown)  # type: ignore[arg-type]
        registry = self.metrics.registry

        async def metrics_page(view, request):  # Faust web: GET /metrics (Prometheus text format)
            return view.bytes(generate_latest(registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

        app.page("/metrics")(metrics_page)

    # -- agents: every table change happens here, in stream context ---------------------------------
    async def _matches_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            if message.value is None:
                continue
            try:
                result = MatchResult.model_validate_json(message.value)
            except ValidationError as error:
                log.warning(
                    "ignored invalid MatchResult at %s[%s]@%s: %s",
                    message.topic,
                    message.partition,
                    message.offset,
                    codec.describe_validation_error(error),
                )
                continue
            self._on_match(result, message.partition)
            await self._written()

    def _on_match(self, result: MatchResult, partition: int) -> None:
        known = self.deliveries.get(result.match_id) is not None
        decision = ledger.on_match(
            result, partition, known, self._subscription(result.company_id), self._closure, _now()
        )
        if decision.entry is None:
            self.metrics.replays.inc()  # a replay or a duplicate: already decided, never twice
            return
        self.deliveries[result.match_id] = decision.entry.to_dict()
        if decision.send is not None:
            self._enqueue(decision.send)

    async def _subscriptions_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            subscription = codec.decode_subscription(message.key, message.value)
            if isinstance(subscription, codec.Tombstone):
                if self.subscriptions.get(subscription.key) is not None:
                    self.subscriptions[subscription.key] = None  # unsubscribed; the sweeper drops pending entries
                    await self._written()
                continue
            if isinstance(subscription, codec.Rejected):
                if message.value is not None:  # (a tombstone without a key was ignored without a word)
                    log.warning("ignored subscription %r: %s", message.key, subscription.reason)
                continue
            self._check_sealed(subscription)
            self.subscriptions[subscription.company_id] = subscription.model_dump(mode="json")
            self._unreadable.discard(subscription.company_id)
            await self._written()

    async def _companies_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            decoded = codec.decode("company", message.key, message.value)
            if isinstance(decoded, codec.Tombstone):
                company_id, version, closed = decoded.key, None, True
            elif isinstance(decoded, CompanyProfile):
                company_id, version, closed = decoded.company_id, decoded.version, decoded.status == "withdrawn"
            else:
                continue  # invalid: the worker dead-letters it
            if self._apply_status(ledger.company_key(company_id), version, closed):
                self._settle(ledger.close_company(self._pending(), company_id, message.partition, _now()))
            await self._written()

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
            if self._apply_status(ledger.challenge_key(partition, challenge_id), control.version, control.closed):
                self._settle(ledger.close_challenge(self._pending(), challenge_id, partition, _now()))
            await self._written()

    async def _written(self) -> None:
        """Wait for this event's table writes (faust_app.ConfirmedTable): Faust commits the event once the
        agent asks for the next one, and a write still in the producer's buffer then is lost with the process."""
        for table in (self.subscriptions, self.deliveries, self.stale):
            await table.written()

    def _apply_status(self, key: str, version: int | None, closed: bool) -> bool:
        """Record an entity's open/closed state (ledger.on_status); True when it is (now) closed."""
        stored = self.stale.get(key)
        change = ledger.on_status(Closure.from_dict(stored) if stored else None, version, closed)
        if change.closure is not None:
            self.stale[key] = change.closure.to_dict()
        return change.closed

    def _settle(self, updates: ledger.Updates) -> None:
        """Write entries from an agent (stream context: Faust picks the changelog partition)."""
        for match_id, entry in updates.items():
            self.deliveries[match_id] = entry.to_dict()

    # -- table reads for the ledger ---------------------------------------------------------------
    def _closure(self, key: str) -> Closure | None:
        stored = self.stale.get(key)
        return Closure.from_dict(stored) if stored else None

    def _subscription(self, company_id: str) -> Subscription | None:
        """The company's subscription; None also for a stored one of an older contract (a plain secret)."""
        stored = self.subscriptions.get(company_id)
        if stored is None:
            return None
        try:
            return Subscription.model_validate(stored)
        except ValidationError as error:
            if company_id not in self._unreadable:
                self._unreadable.add(company_id)
                log.warning(
                    "the stored subscription of %s is not valid (%s): subscribe it again",
                    company_id,
                    codec.describe_validation_error(error),
                )
            return None

    def _subscription_lookup(self) -> Callable[[str], Subscription | None]:
        """`_subscription`, each company parsed once: for a scan over many entries."""
        cache: dict[str, Subscription | None] = {}

        def lookup(company_id: str) -> Subscription | None:
            if company_id not in cache:
                cache[company_id] = self._subscription(company_id)
            return cache[company_id]

        return lookup

    def _pending(self) -> dict[str, DeliveryEntry]:
        """The table's pending entries, the only ones the ledger's scans act on (a snapshot: callers change
        the table while iterating). Settled entries, most of the table, are skipped before decoding: the
        sweep runs every few seconds."""
        return {
            match_id: entry
            for match_id, value in list(self.deliveries.items())
            if value and value.get("state") == PENDING and (entry := DeliveryEntry.from_dict(value)) is not None
        }

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
    def _enqueue(self, job: Send) -> None:
        if job.notification_id in self._queued:
            return
        deliverer = self._deliverers.get(job.company_id)
        if deliverer is None or deliverer.stopping:
            deliverer = CompanyDeliverer(job.company_id)
            # a fresh context: the task must not inherit the agent's current event
            deliverer.task = asyncio.get_running_loop().create_task(
                self._work(deliverer), context=contextvars.Context()
            )
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
        await self.sender.aclose()

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
        sweep = ledger.sweep(self._pending(), self._owned_partitions(), self._subscription_lookup(), _now())
        for send in sweep.sends:
            self._enqueue(send)
        for partition, updates in sweep.settle.items():
            await self._write(partition, updates)

    async def _digest_clock(self) -> None:
        """At every period boundary, gather each digest company's pending matches into one notification."""
        while not self.app.should_stop:
            now = time.time()
            await asyncio.sleep(self.digests.next_due(now) - now + 0.001)
            while not self._is_ready() and not self.app.should_stop:
                await asyncio.sleep(0.2)
            try:
                await self._form_digests()
            except Exception:
                log.exception("digest failed")

    async def _form_digests(self) -> None:
        digests = ledger.form_digests(self._pending(), self._owned_partitions(), self._subscription_lookup(), _now())
        for digest in digests:
            # the digest's membership is recorded first: a restart re-sends the same digest (same id)
            await self._write(digest.send.partition, digest.members)
            self._enqueue(digest.send)

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

    async def _deliver(self, job: Send, deliverer: CompanyDeliverer) -> None:
        """Send one notification: the ledger decides what goes out, retries and gives up; this runs it."""
        subscription = self._subscription(job.company_id)
        entries = {m: DeliveryEntry.from_dict(self.deliveries.get(m)) for m in job.match_ids}
        prepared = ledger.prepare(job, entries, subscription, self._closure, _now())
        if prepared.settle:
            await self._write(job.partition, prepared.settle)
        if prepared.notification is None or subscription is None or subscription.url is None:
            return  # (prepare leaves no notification for an inbox-only subscription)
        url = subscription.url
        body = prepared.notification.model_dump_json().encode("utf-8")
        attempt = 1
        while True:
            if deliverer.stopping:
                return  # revoked or stopping: stays pending, the (new) owner sends it
            if attempt > 1:
                self.metrics.retries.inc()
            deliverer.busy = True
            try:
                outcome = await signed_attempt(self.keys, self.sender, subscription, body, job)
                self.metrics.attempts.labels(_attempt_label(outcome)).inc()
                decision = ledger.on_outcome(prepared, url, attempt, outcome, self.retry, _now())
                if isinstance(decision, ledger.Delivered):
                    await self._write(job.partition, decision.settle)
                    self.metrics.delivered.labels(job.kind).inc()
                    self.metrics.matches_delivered.inc(len(decision.settle))
                    log.info(
                        "delivered %s %s to %s after %d attempt(s)",
                        job.kind,
                        job.notification_id,
                        job.company_id,
                        attempt,
                    )
                    return
                log.info(
                    "attempt %d of %s to %s failed (%s): %s",
                    attempt,
                    job.notification_id,
                    job.company_id,
                    outcome.kind,
                    outcome.error,
                )
                if isinstance(decision, ledger.GiveUp):  # the dead letter and its record belong together
                    await self._give_up(job, decision)
                    return
            finally:
                deliverer.busy = False
            if deliverer.stopping:
                return
            await asyncio.sleep(decision.delay)
            attempt = decision.attempt

    def _check_sealed(self, subscription: Subscription) -> None:
        """Say at once when a new subscription's secret will not unseal (its notifications would fail)."""
        if subscription.url is None or subscription.sealed_secret is None:
            return  # inbox only: nothing to sign
        try:
            self.keys.sealer().unseal(subscription.company_id, subscription.url, subscription.sealed_secret)
        except (UnsealError, ConfigurationError) as error:
            log.error("subscription of %s: %s; its notifications will be dead-lettered", subscription.company_id, error)

    async def _give_up(self, job: Send, decision: ledger.GiveUp) -> None:
        letter = decision.letter
        sent = await self.dead_letters.send(key=job.company_id.encode(), value=letter.model_dump_json().encode("utf-8"))
        await sent
        await self._write(job.partition, decision.settle)
        self.metrics.dead.labels(job.kind).inc()
        log.warning(
            "gave up %s %s to %s after %d attempts: %s",
            job.kind,
            job.notification_id,
            job.company_id,
            letter.attempts,
            letter.last_error,
        )


def _attempt_label(outcome: Outcome) -> str:
    """ok, error, or refused: no request was made, the destination is internal (outbound.py)."""
    return "ok" if outcome.delivered else "refused" if outcome.kind == REFUSED else "error"


async def signed_attempt(keys: KeyFile, sender: Sender, subscription: Subscription, body: bytes, job: Send) -> Outcome:
    """One signed request; the secret is unsealed for it and kept nowhere else. A secret that does not
    unseal is a failed attempt with no request: retried (the key file may be fixed), then dead-lettered."""
    if subscription.url is None or subscription.sealed_secret is None:
        return Outcome(PERMANENT, "inbox-only subscription: no webhook")  # (prepare never sends one here)
    try:
        secret = keys.sealer().unseal(subscription.company_id, subscription.url, subscription.sealed_secret)
    except (UnsealError, ConfigurationError) as error:
        log.error("cannot sign %s for %s: %s", job.notification_id, job.company_id, error)
        return Outcome(PERMANENT, f"webhook secret not unsealed: {error}")
    return await sender.send(subscription.url, secret, body, job.notification_id, job.kind)


def _now() -> datetime:
    """The notifier's one clock read for decisions: the ledger is handed this."""
    return datetime.now(UTC)


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
    from services.kafka.topics import create_missing, delivery_topic_specs, notifier_topic_specs, with_replication

    settings = with_replication(settings.as_principal("notifier"))
    dead_letters = settings.delivery.topic_notification_dead_letters
    create_missing(settings, {dead_letters: delivery_topic_specs(settings)[dead_letters]})
    try:
        KeyFile(key_path(settings)).sealer()
    except ConfigurationError as error:  # not fatal: the file may come later (each attempt reads it again)
        log.warning("%s; until then every notification is dead-lettered", error)
    partitions = notifier_partitions(settings)
    # created here, not by Faust on first use, so that every process subscribes to them from the start
    create_missing(settings, notifier_topic_specs(settings, partitions))
    notifier = Notifier(settings, partitions)
    run_faust_worker(notifier.app)
