"""Reading topics without a consumer group: replay from the beginning, then (optionally) follow.

Several processes keep an in-memory view built from whole topics (the inbox, the ingest API's version
view) and several tools read a topic once (`matchmaker results`, tests, the bench). They all read the
same way, written once here: assign every partition of the topics (no group, nothing committed), seek
to the beginning, read up to the end offsets seen at the start ("caught up"), then stop or keep
following until told to stop.

    for record in replay(settings, settings.topic_matches, client_id="matchmaker-results"):
        ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.kafka import clients
from services.settings import Settings


def replay_batches(
    settings: Settings,
    topics: list[str],
    *,
    client_id: str,
    follow: bool = False,
    stop: threading.Event | None = None,
    on_caught_up: Callable[[], None] | None = None,
    wait_for_topics: float = 0.0,
    poll_seconds: float = 0.5,
    **consumer_options: Any,
) -> Iterator[list[ConsumerRecord]]:
    """The records of `topics` from the beginning, one list per poll (empty lists while following).

    Without `follow` it returns once caught up with the end offsets seen at the start. With `follow` it
    goes on until `stop` is set (checked before every poll) or the caller closes the generator.
    `on_caught_up` is called once, when that initial replay is complete (after the caller has handled
    the batch that completed it): the readiness signal of a view. Topics that do not exist are skipped
    (when none exists it returns at once, even with `follow`), unless `wait_for_topics` > 0: then it
    waits up to that many seconds for them and raises RuntimeError for one still missing.
    """
    consumer = clients.consumer(settings, client_id=client_id, **consumer_options)
    try:
        partitions = _partitions(consumer, topics, wait_for_topics)
        if not partitions:  # none of the topics exists: nothing to replay or follow
            if on_caught_up is not None:
                on_caught_up()
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        caught_up = False
        while not (stop is not None and stop.is_set()):
            if not caught_up and all(consumer.position(tp) >= end[tp] for tp in partitions):
                caught_up = True
                if on_caught_up is not None:
                    on_caught_up()
                if not follow:
                    return
            batch = consumer.poll(timeout_ms=int(poll_seconds * 1000))
            yield [record for records in batch.values() for record in records]
    finally:
        consumer.close()


def replay(settings: Settings, *topics: str, client_id: str, **options: Any) -> Iterator[ConsumerRecord]:
    """The records of `topics` from the beginning, one at a time; `options` as for `replay_batches`."""
    for batch in replay_batches(settings, list(topics), client_id=client_id, **options):
        yield from batch


def read_topic(settings: Settings, topic: str, *, client_id: str) -> list[ConsumerRecord]:
    """Every record of a topic, from the beginning to the end offsets at the time of the call."""
    return list(replay(settings, topic, client_id=client_id))


def tail(
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    starts: dict[TopicPartition, int],
    ends: dict[TopicPartition, int],
    keep: int,
    timeout: float = 3.0,
) -> list[ConsumerRecord]:
    """Up to the last `keep` records below `ends` of each partition, read with an existing consumer.

    The consumer is assigned the partitions for the read and unassigned afterwards, so a caller can
    keep one consumer for repeated tails.
    """
    records: list[ConsumerRecord] = []
    if not keep or not partitions:
        return records
    consumer.assign(partitions)
    wanted = {tp: ends[tp] - max(starts[tp], ends[tp] - keep) for tp in partitions}
    for tp in partitions:
        consumer.seek(tp, max(starts[tp], ends[tp] - keep))
    deadline = time.monotonic() + timeout
    got: dict[TopicPartition, int] = {tp: 0 for tp in partitions}
    while any(got[tp] < wanted[tp] for tp in partitions) and time.monotonic() < deadline:
        for tp, batch in consumer.poll(timeout_ms=200).items():
            for record in batch:
                if record.offset >= ends[tp]:
                    continue
                got[tp] += 1
                records.append(record)
        # on compacted topics fewer records than offsets may exist: stop at the end position
        for tp in partitions:
            if consumer.position(tp) >= ends[tp]:
                got[tp] = wanted[tp]
    consumer.assign([])
    return records


def _partitions(consumer: KafkaConsumer, topics: list[str], wait_for_topics: float) -> list[TopicPartition]:
    partitions: list[TopicPartition] = []
    deadline = time.monotonic() + wait_for_topics
    for topic in topics:
        ids = consumer.partitions_for_topic(topic)
        while not ids and time.monotonic() < deadline:
            time.sleep(0.5)
            ids = consumer.partitions_for_topic(topic)
        if not ids and wait_for_topics > 0:
            raise RuntimeError(f"topic {topic!r} does not exist")
        partitions += [TopicPartition(topic, p) for p in sorted(ids or [])]
    return partitions
