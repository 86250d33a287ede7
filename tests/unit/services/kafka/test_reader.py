"""Replay-then-follow without a broker: a fake consumer with in-memory partitions."""

from __future__ import annotations

import threading

import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.kafka import clients, reader
from services.settings import Settings


def record(topic: str, partition: int, offset: int, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, -1, offset, 1_000 + offset, 0, b"k", value, [], None, 1, 1, 0)


class FakeConsumer:
    """Partitions as lists of records; `poll` returns at most `per_poll` records per partition."""

    def __init__(self, logs: dict[TopicPartition, list[ConsumerRecord]], per_poll: int = 2) -> None:
        self.logs, self.per_poll = logs, per_poll
        self.assigned: list[TopicPartition] = []
        self.positions: dict[TopicPartition, int] = {}
        self.closed = False
        self.polls = 0

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {tp.partition for tp in self.logs if tp.topic == topic} or None

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = list(partitions)

    def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp in partitions:
            self.positions[tp] = 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.logs[tp]) for tp in partitions}

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[ConsumerRecord]]:
        self.polls += 1
        out = {}
        for tp in self.assigned:
            start = self.positions[tp]
            batch = self.logs[tp][start : start + self.per_poll]
            if batch:
                out[tp] = batch
                self.positions[tp] = start + len(batch)
        return out

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def logs():
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    return {
        a0: [record("a", 0, i, b"a0-%d" % i) for i in range(3)],
        a1: [record("a", 1, i, b"a1-%d" % i) for i in range(2)],
        b0: [record("b", 0, 0, None)],
    }


@pytest.fixture
def fake(monkeypatch, logs):
    consumer = FakeConsumer(logs)
    built: list[dict] = []

    def build(settings, *topics, client_id, **options):
        built.append({"client_id": client_id, **options})
        return consumer

    monkeypatch.setattr(clients, "consumer", build)
    consumer.built = built
    return consumer


def test_replay_reads_every_partition_from_the_beginning_and_stops_when_caught_up(fake):
    records = list(reader.replay(Settings(), "a", "b", client_id="test", fetch_max_wait_ms=100))
    assert sorted((r.topic, r.partition, r.offset) for r in records) == [
        ("a", 0, 0),
        ("a", 0, 1),
        ("a", 0, 2),
        ("a", 1, 0),
        ("a", 1, 1),
        ("b", 0, 0),
    ]
    assert fake.closed
    assert fake.built == [{"client_id": "test", "fetch_max_wait_ms": 100}]


def test_missing_topics_are_skipped_and_none_at_all_means_nothing_to_read(fake):
    assert len(list(reader.replay(Settings(), "a", "missing", client_id="t"))) == 5
    caught_up = threading.Event()
    assert list(reader.replay(Settings(), "missing", client_id="t", follow=True, on_caught_up=caught_up.set)) == []
    assert caught_up.is_set() and fake.closed


def test_waiting_for_a_topic_that_never_appears_fails(fake, monkeypatch):
    monkeypatch.setattr(reader.time, "sleep", lambda seconds: None)
    with pytest.raises(RuntimeError, match="'missing' does not exist"):
        list(reader.replay(Settings(), "a", "missing", client_id="t", wait_for_topics=0.01))


def test_follow_signals_caught_up_after_the_initial_records_were_handled_and_stops_on_request(fake, logs):
    stop = threading.Event()
    handled: list[bytes | None] = []
    seen_when_caught_up: list[int] = []

    def caught_up() -> None:
        seen_when_caught_up.append(len(handled))
        logs[TopicPartition("a", 1)].append(record("a", 1, 2, b"late"))  # arrives after the start

    for batch in reader.replay_batches(
        Settings(), ["a", "b"], client_id="t", follow=True, stop=stop, on_caught_up=caught_up
    ):
        handled += [r.value for r in batch]
        if b"late" in handled:
            stop.set()
    assert seen_when_caught_up == [6]  # once, after all six records there at the start
    assert handled[-1] == b"late" and fake.closed


def test_following_yields_empty_batches_while_idle(fake):
    batches = reader.replay_batches(Settings(), ["b"], client_id="t", follow=True)
    assert len(next(batches)) == 1
    assert next(batches) == [] and next(batches) == []
    batches.close()
    assert fake.closed


def test_tail_reads_the_last_records_of_each_partition_and_unassigns(logs):
    consumer = FakeConsumer(logs)
    partitions = [TopicPartition("a", 0), TopicPartition("a", 1)]
    ends = consumer.end_offsets(partitions)
    records = reader.tail(consumer, partitions, {tp: 0 for tp in partitions}, ends, keep=2)
    assert sorted(r.value for r in records) == [b"a0-1", b"a0-2", b"a1-0", b"a1-1"]
    assert consumer.assigned == []
    assert reader.tail(consumer, partitions, {tp: 0 for tp in partitions}, ends, keep=0) == []
