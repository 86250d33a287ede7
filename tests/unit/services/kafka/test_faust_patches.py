"""After a rebalance, events Faust fetched but dropped are read again (services/kafka/faust_patches.py)."""

from __future__ import annotations

from types import SimpleNamespace

from faust.transport.consumer import Consumer
from faust.types import TP

from services.kafka import faust_patches


def test_after_a_rebalance_uncommitted_stream_partitions_are_read_again_from_the_start():
    consumer = SimpleNamespace(
        app=SimpleNamespace(tables=SimpleNamespace(changelog_topics={"app-companies-changelog"})),
        assignment=lambda: {TP("challenges", 0), TP("challenges", 1), TP("app-companies-changelog", 0)},
        _committed_offset={TP("challenges", 1): 17},
    )
    assert faust_patches.uncommitted_stream_partitions(consumer) == {TP("challenges", 0): 0}


def test_the_patch_wraps_perform_seek_once():
    faust_patches.apply()
    patched = Consumer.perform_seek
    faust_patches.apply()
    assert Consumer.perform_seek is patched


class FakeConsumer:
    """What `_drain_messages` uses of faust's Consumer: one fetched batch, the flow, the bookkeeping."""

    consumer_stopped_errors = ()
    should_stop = False
    _commit_every = None

    def __init__(self, batch: list[tuple], flow_suspended: bool) -> None:
        import asyncio
        from collections import defaultdict

        from mode import Service

        self.batch = batch
        self._read_offset: dict = defaultdict(lambda: None)
        self.gaps: list[tuple] = []
        self.delivered: list[int] = []
        self.suspend_flow = asyncio.Event()
        if flow_suspended:
            self.suspend_flow.set()
        self._stopped = asyncio.Event()
        self.diag = SimpleNamespace(set_flag=lambda flag: None, unset_flag=lambda flag: None)
        self.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda topic: True))
        self.log = SimpleNamespace(dev=lambda *a: None, info=lambda *a: None, exception=lambda *a: None)
        self.wait_first = Service().wait_first
        self.stalled = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)

    async def getmany(self, timeout: float):
        batch, self.batch = self.batch, []
        for item in batch:
            yield item
        if not batch:
            self._stopped.set()  # one batch, then the loop ends

    async def callback(self, message) -> None:
        import asyncio

        if self.suspend_flow.is_set():
            await asyncio.Event().wait()  # the streams take nothing while the flow is suspended
        self.delivered.append(message.offset)

    async def _add_gap(self, tp, start: int, end: int) -> None:
        self.gaps.append((tp, start, end))


def drain(consumer):
    import asyncio

    fetcher = SimpleNamespace(_stopped=asyncio.Event())
    asyncio.run(faust_patches._drain_messages(consumer, fetcher))


def test_records_iterated_while_the_flow_is_suspended_are_neither_read_nor_a_gap():
    tp = TP("shard-input", 3)
    stale = [(tp, SimpleNamespace(offset=o, topic=tp.topic, key=None, value=None)) for o in (14, 15)]

    async def scenario():
        consumer = FakeConsumer(stale, flow_suspended=True)
        consumer._read_offset[tp] = 5  # perform_seek: the committed offset
        return consumer

    import asyncio

    consumer = asyncio.run(scenario())
    drain(consumer)
    assert (consumer.delivered, consumer.gaps, consumer._read_offset[tp]) == ([], [], 5)


def test_delivered_records_are_read_and_a_real_jump_is_a_gap():
    tp = TP("companies", 0)
    batch = [(tp, SimpleNamespace(offset=o, topic=tp.topic, key=None, value=None)) for o in (5, 6, 9)]

    async def scenario():
        return FakeConsumer(batch, flow_suspended=False)

    import asyncio

    consumer = asyncio.run(scenario())
    consumer._read_offset[tp] = 4
    drain(consumer)
    assert (consumer.delivered, consumer.gaps, consumer._read_offset[tp]) == ([5, 6, 9], [(tp, 7, 9)], 9)


def bookkeeping(acked: list[int], committed: int | None, gap: tuple[int, int] | None = None):
    """The commit bookkeeping `_new_offset` reads, for one partition of shard-input."""
    from intervaltree import IntervalTree

    tp = TP("shard-input", 0)
    gaps = IntervalTree()
    if gap:
        gaps.addi(*gap)
    consumer = SimpleNamespace(
        _acked={tp: list(acked)}, _committed_offset={tp: committed}, _gap={tp: gaps}, _acked_index={tp: set(acked)}
    )
    return consumer, tp


def test_the_commit_never_skips_an_event_at_the_committed_offset_that_was_not_acknowledged():
    # committed 6 = the next event to process is 6; 7 and 8 were acknowledged, 6 was not
    consumer, tp = bookkeeping([7, 8], committed=6)
    faust_patches.apply()
    assert Consumer._new_offset(consumer, tp) is None


def test_a_contiguous_head_or_a_gap_at_the_committed_offset_is_committed_as_before():
    faust_patches.apply()
    for acked, committed, gap, expected in (
        ([6, 7], 6, None, 8),
        ([8], 6, (6, 8), 9),  # offsets 6 and 7 compacted away: a gap, counted as acknowledged
        ([3, 4], None, None, 5),  # never committed: the rewind after a rebalance (fix 1) covers it
    ):
        consumer, tp = bookkeeping(acked, committed, gap)
        assert Consumer._new_offset(consumer, tp) == expected


def test_an_event_of_an_older_generation_is_never_counted_as_acknowledged():
    from collections import defaultdict

    faust_patches.apply()
    tp = TP("shard-input", 0)
    consumer = SimpleNamespace(
        app=SimpleNamespace(consumer_generation_id=7, topics=SimpleNamespace(acks_enabled_for=lambda topic: True)),
        _committed_offset=defaultdict(lambda: None),
        _acked=defaultdict(list),
        _acked_index=defaultdict(set),
        _unacked_messages=set(),
        _n_acked=0,
        _waiting_for_ack=None,
    )

    class Message:  # hashable, like faust's Message
        def __init__(self, offset: int, generation: int) -> None:
            self.tp, self.topic, self.offset, self.generation_id, self.acked = tp, tp.topic, offset, generation, False

    message = Message

    assert Consumer.ack(consumer, message(25, generation=6)) is False  # skipped by its stream after a rebalance
    assert Consumer.ack(consumer, message(26, generation=7)) is True
    assert consumer._acked[tp] == [26]
