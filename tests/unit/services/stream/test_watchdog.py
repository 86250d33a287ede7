"""The stall verdicts of the worker's watchdog: behind and not moving for long enough, and nothing else."""

from __future__ import annotations

from services.stream.watchdog import Partition, StallTracker

A = Partition("companies", 0)
B = Partition("partials", 1)


def test_a_partition_behind_without_progress_is_stalled_after_the_limit() -> None:
    tracker = StallTracker(stall_after=30)
    assert tracker.observe(0, {A: (5, 9)}) == []
    assert tracker.observe(29, {A: (5, 9)}) == []
    assert tracker.observe(30, {A: (5, 9)}) == [A]


def test_progress_catching_up_or_records_in_hand_start_the_clock_again() -> None:
    tracker = StallTracker(stall_after=30)
    tracker.observe(0, {A: (5, 9), B: (None, 3)})
    assert tracker.observe(20, {A: (6, 9), B: (None, 3)}, busy=[B]) == []  # A moved, B is being processed
    assert tracker.observe(45, {A: (6, 9), B: (None, 3)}) == []  # both clocks restarted at 20
    assert tracker.observe(50, {A: (6, 9), B: (None, 3)}) == [A, B]


def test_a_caught_up_or_idle_partition_is_never_stalled() -> None:
    tracker = StallTracker(stall_after=1)
    for now in range(10):
        assert tracker.observe(now, {A: (9, 9), B: (0, 0)}) == []


def test_a_verdict_repeats_once_per_period_and_counts_recoveries() -> None:
    tracker = StallTracker(stall_after=10)
    tracker.observe(0, {A: (1, 2)})
    assert tracker.observe(10, {A: (1, 2)}) == [A]
    assert tracker.recovered_once(A) == 0
    assert tracker.observe(15, {A: (1, 2)}) == []
    assert tracker.observe(20, {A: (1, 2)}) == [A]
    assert tracker.recovered_once(A) == 1  # the second recovery: the watchdog escalates to a rebalance
    tracker.observe(21, {A: (2, 2)})  # it moved: the count starts over
    tracker.observe(22, {A: (2, 3)})
    assert tracker.observe(32, {A: (2, 3)}) == [A]
    assert tracker.recovered_once(A) == 0


def test_partitions_no_longer_assigned_are_forgotten() -> None:
    tracker = StallTracker(stall_after=10)
    tracker.observe(0, {A: (1, 2)})
    tracker.observe(5, {})
    assert tracker.observe(12, {A: (1, 2)}) == []  # its clock restarted when it came back


def test_a_partition_counts_as_busy_only_while_a_stage_holds_its_next_event_to_commit():
    from services.stream.acks import hold, release
    from services.stream.watchdog import Partition, processing

    class Message:
        def __init__(self, offset: int) -> None:
            self.topic, self.partition, self.offset, self.refcount = "wd-companies", 0, offset, 1

        def incref(self) -> None:
            self.refcount += 1

    class Stream:
        async def ack(self, event) -> None:
            event.message.refcount -= 1

    import asyncio
    from types import SimpleNamespace

    tp = Partition("wd-companies", 0)
    later = SimpleNamespace(message=Message(4))
    hold([later])  # 4 is being processed; 3, the committed offset, was dropped before any stage got it
    assert not processing(tp, committed=3)  # a stall behind 3, whatever happens to 4
    head = SimpleNamespace(message=Message(3))
    hold([head])
    assert processing(tp, committed=3)  # 3 itself is in hand: a long computation
    asyncio.run(release(Stream(), [head, later]))
    assert not processing(tp, committed=3) and not processing(tp, committed=None)
