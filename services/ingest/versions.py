"""The ingest API's view of the current version of every challenge and company.

At startup the API reads the compacted `challenges` and `companies` topics from the beginning to
their end (it serves no writes before that), then keeps following them, so it also learns about
events published with kcat, the Python SDK or another API replica. Its own accepted writes are
applied at once, from the broker's acknowledgement. Records are applied in log order per key
(the partition offset decides), with the worker's rules (services/versioning.py): a version only
counts when it is higher than the one applied; a tombstone deletes the entity but its last version is
remembered, so a later event must still be newer.

With several API replicas the broker is the arbiter: each replica learns the others' writes from
the topic within a poll interval, and the worker applies only the highest version of a key. Two
replicas that assign the same version to the same id inside that window both answer 202; the
record that comes first in the partition wins and the other is ignored as a duplicate version.
Publishers that need strict control send `version` explicitly.

It also follows the subscriptions topic (`SubscriptionView`): a company setting its alert threshold
keeps the webhook registered for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from schemas import Challenge, CompanyProfile, Subscription
from services import versioning
from services.kafka import codec
from services.kafka.codec import Kind
from services.kafka.reader import replay_batches
from services.settings import Settings

log = logging.getLogger("matchmaker.api")


@dataclass(frozen=True)
class Entry:
    version: int | None  # the highest version applied; None when only a tombstone was ever seen
    deleted: bool
    partition: int
    offset: int
    challenge: Challenge | None = None  # the current challenge (kept for `close`); companies keep only the version
    topic: str = ""  # with partition and offset, where it was read (a challenge id may come from two topics)


class VersionView:
    """Thread-safe map (kind, id) -> Entry."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Entry] = {}
        self._lock = threading.Lock()

    def get(self, kind: Kind, key: str) -> Entry | None:
        with self._lock:
            return self._entries.get((kind, key))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def apply(
        self,
        kind: Kind,
        key: str,
        event: Challenge | CompanyProfile | None,
        partition: int,
        offset: int,
        topic: str = "",
    ) -> None:
        """Apply one record of `topic` (event None = tombstone) at its position."""
        with self._lock:
            current = self._entries.get((kind, key))
            same_log = current is not None and current.topic == topic and current.partition == partition
            if current is not None and same_log and offset <= current.offset:
                return  # already applied (our own write, seen again by the follower)
            if event is None:
                version = current.version if current else None
                self._entries[(kind, key)] = Entry(version, True, partition, offset, topic=topic)
            elif versioning.decide(current.version if current else None, event.version).wins:
                self._entries[(kind, key)] = Entry(
                    event.version, False, partition, offset, event if isinstance(event, Challenge) else None, topic
                )
            else:  # a stale or repeated version: the worker ignores it, and so do we
                assert current is not None  # decide() lets any version win over no version
                self._entries[(kind, key)] = Entry(
                    current.version, current.deleted, partition, offset, current.challenge, topic
                )

    def apply_record(
        self,
        kind: Kind,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        offset: int,
        city: str | None = None,
        topic: str = "",
    ) -> None:
        """One record of an entity topic; `city` when it comes from that city's own topic (its rules apply)."""
        decoded = codec.from_city(city, codec.decode(kind, key, value))
        if isinstance(decoded, codec.Tombstone):
            self.apply(kind, decoded.key, None, partition, offset, topic)
        elif isinstance(decoded, (Challenge, CompanyProfile)):
            self.apply(kind, decoded.key, decoded, partition, offset, topic)
        # codec.Rejected: the worker dead-letters it; it changes nothing


class SubscriptionView:
    """Thread-safe map company_id -> its current Subscription (None: none), from the subscriptions topic, so
    a company's PUT of its threshold keeps the webhook an operator registered for it."""

    def __init__(self) -> None:
        self._current: dict[str, tuple[Subscription | None, int, int]] = {}  # id -> (record, partition, offset)
        self._lock = threading.Lock()

    def get(self, company_id: str) -> Subscription | None:
        with self._lock:
            found = self._current.get(company_id)
            return found[0] if found else None

    def apply(self, company_id: str, subscription: Subscription | None, partition: int, offset: int) -> None:
        """One record at its position; a record at or before the one applied (our own write, read again) is
        ignored."""
        with self._lock:
            current = self._current.get(company_id)
            if current is not None and current[1] == partition and offset <= current[2]:
                return
            self._current[company_id] = (subscription, partition, offset)

    def apply_record(self, key: bytes | None, value: bytes | None, partition: int, offset: int) -> None:
        subscription = codec.decode_subscription(key, value)
        if isinstance(subscription, codec.Tombstone):
            self.apply(subscription.key, None, partition, offset)
        elif not isinstance(subscription, codec.Rejected):  # (a rejected one: the notifier and worker ignore it too)
            self.apply(subscription.company_id, subscription, partition, offset)


class TopicFollower(threading.Thread):
    """Reads both entity topics from the beginning, then follows them, into a VersionView."""

    def __init__(
        self,
        view: VersionView,
        settings: Settings,
        topics: dict[str, Kind],
        poll_ms: int = 300,
        subscriptions: SubscriptionView | None = None,
    ) -> None:
        super().__init__(name="matchmaker-api-follower", daemon=True)
        self.view = view
        self.subscriptions = subscriptions  # followed too (topic settings.delivery.topic_subscriptions) when given
        self.topics = topics  # topic name -> kind
        self.cities = {topic: city for city, topic in settings.city_topics.items()}
        self.settings = settings
        self.poll_ms = poll_ms
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # reported through readiness
            self.failed = error
            log.exception("the topic follower stopped")

    def _run(self) -> None:
        # a topic just created may take a moment to appear in the metadata: wait for it, up to 60 s
        subscriptions = self.settings.delivery.topic_subscriptions
        topics = [*self.topics, *([subscriptions] if self.subscriptions is not None else [])]
        for batch in replay_batches(
            self.settings,
            topics,
            client_id="matchmaker-api-view",
            follow=True,
            stop=self._stopping,
            on_caught_up=self._caught_up,
            wait_for_topics=60,
            poll_seconds=self.poll_ms / 1000,
        ):
            for record in batch:
                if record.topic == subscriptions and self.subscriptions is not None:
                    self.subscriptions.apply_record(record.key, record.value, record.partition, record.offset)
                    continue
                self.view.apply_record(
                    self.topics[record.topic],
                    record.key,
                    record.value,
                    record.partition,
                    record.offset,
                    self.cities.get(record.topic),
                    record.topic,
                )

    def _caught_up(self) -> None:
        log.info("version view ready: %d entities", len(self.view))
        self.ready.set()
