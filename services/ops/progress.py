"""How far a consumer group has got: committed offsets against log-end offsets.

`wait_until_drained` is how the demo and the tests know the worker has processed everything that
was published, including its internal stages (shard input, partial rankings).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.errors import KafkaConnectionError, KafkaError

from services.errors import StalledError
from services.kafka import clients
from services.settings import Settings


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


def worker_topics(settings: Settings) -> list[str]:
    return [
        *settings.challenge_topics,
        settings.topic_companies,
        settings.delivery.topic_subscriptions,  # (the alert thresholds)
        settings.shard_input_topic,
        settings.partials_topic,
    ]


def group_lag(admin: KafkaAdminClient, group: str, topics: list[str]) -> list[PartitionLag]:
    metadata = admin.describe_topics([t for t in topics if t in set(admin.list_topics())])
    partitions = [TopicPartition(t["name"], p["partition_index"]) for t in metadata for p in t["partitions"]]
    if not partitions:
        return []
    ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
    committed = admin.list_group_offsets({group: partitions}).get(group, {})
    rows = []
    for tp in sorted(partitions):
        offset = committed.get(tp)
        value = offset.offset if offset is not None and offset.offset >= 0 else None
        rows.append(PartitionLag(tp.topic, tp.partition, value, ends[tp].offset))
    return rows


def wait_until_drained(
    settings: Settings,
    timeout: float = 180.0,
    settle: float = 1.5,
    alive: Callable[[], bool] = lambda: True,
    group: str | None = None,
    topics: list[str] | None = None,
) -> list[PartitionLag]:
    """Block until a group (default: the worker's) has no lag on its topics in two snapshots `settle` apart.

    `alive` lets a caller that started the consumer stop waiting as soon as it has died.
    """
    group = group or settings.app_id
    topics = topics or worker_topics(settings)
    admin = clients.admin(settings, client_id="matchmaker-progress")
    deadline = time.monotonic() + timeout
    previous: list[PartitionLag] | None = None
    try:
        while True:
            try:
                rows = group_lag(admin, group, topics)
            except KafkaError as error:  # coordinator starting or moving, broker restarting: ask again
                if not error.retriable and not isinstance(error, KafkaConnectionError):
                    raise
                rows = [PartitionLag("?", 0, None, 1)]
            drained = all(row.lag == 0 for row in rows if row.end > 0)
            if drained and rows == previous:
                return rows
            previous = rows if drained else None
            if not alive():
                raise StalledError(f"the consumer of group {group!r} exited; see its log")
            if time.monotonic() > deadline:
                behind = ", ".join(f"{r.topic}[{r.partition}] lag {r.lag}" for r in rows if r.lag)
                raise StalledError(f"group {group!r} still behind after {timeout:.0f}s: {behind}")
            time.sleep(settle if drained else 0.5)
    finally:
        admin.close()
