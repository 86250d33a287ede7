"""Burrow-style lag evaluation (services/ops/lag.py): every rule on hand-made windows, no broker."""

from __future__ import annotations

import pytest

from services.ops.lag import (
    STATUS_CODES,
    LagWindow,
    Sample,
    Status,
    evaluate_partition,
    last_change_at,
    rate,
    worst,
)


def window(points, active=None, start=0.0, step=1.0):
    """points: (committed, end) pairs, one per `step` seconds."""
    return [Sample(start + i * step, c, e, active) for i, (c, e) in enumerate(points)]


def test_too_few_samples_or_no_commit_is_ok():
    assert evaluate_partition([]) is Status.OK
    assert evaluate_partition(window([(0, 10)])) is Status.OK
    assert evaluate_partition(window([(None, 10), (None, 12)])) is Status.OK


def test_zero_lag_now_or_anywhere_in_the_window_is_ok():
    assert evaluate_partition(window([(5, 10), (5, 10), (10, 10)])) is Status.OK
    # caught up once inside the window (Burrow rule 1), even with lag again now and a stopped offset after
    assert evaluate_partition(window([(10, 10), (10, 12), (10, 14)])) is Status.OK


def test_offset_going_back_is_rewind():
    assert evaluate_partition(window([(50, 60), (55, 60), (20, 60), (25, 60)])) is Status.REWIND


def test_stuck_offset_with_a_live_owner_is_stall():
    assert evaluate_partition(window([(5, 10), (5, 11), (5, 12)], active=True)) is Status.STALL
    # still STALL however long: the consumer is there but does not advance
    assert evaluate_partition(window([(5, 10)] * 4, active=True), unchanged_since=-100.0) is Status.STALL


def test_stuck_offset_without_consumer_is_stop():
    assert evaluate_partition(window([(5, 10), (5, 10), (5, 10)], active=False)) is Status.STOP


def test_unknown_owner_stall_turns_stop_when_unchanged_longer_than_the_window():
    samples = window([(5, 10), (5, 10), (5, 10)])  # span 2 s
    assert evaluate_partition(samples) is Status.STALL  # unchanged exactly over the window
    assert evaluate_partition(samples, unchanged_since=-1.0) is Status.STOP  # 3 s > 2 s window
    assert evaluate_partition(samples, now=10.0, unchanged_since=0.0, window_seconds=2.0) is Status.STOP


def test_advancing_offsets_with_growing_lag_is_warn():
    assert evaluate_partition(window([(0, 10), (5, 20), (10, 30), (15, 40)], active=True)) is Status.WARN
    # equal steps count as not decreasing, as long as it grew overall
    assert evaluate_partition(window([(0, 10), (5, 15), (10, 22)])) is Status.WARN


def test_advancing_offsets_with_lag_not_growing_is_ok():
    assert evaluate_partition(window([(0, 10), (5, 15), (10, 20)])) is Status.OK  # constant lag: keeps pace
    assert evaluate_partition(window([(0, 10), (8, 20), (20, 25)])) is Status.OK  # catching up
    assert evaluate_partition(window([(0, 10), (5, 20), (12, 21), (14, 30)])) is Status.OK  # lag dipped once


def test_rewind_wins_over_stall_and_lag_zero_wins_over_all():
    assert evaluate_partition(window([(9, 10), (3, 10), (3, 10)], active=True)) is Status.REWIND
    assert evaluate_partition(window([(9, 10), (3, 10), (10, 10)], active=True)) is Status.OK


def test_worst_and_codes():
    assert worst([Status.OK, Status.WARN, Status.STALL]) is Status.STALL
    assert worst([Status.OK, Status.STOP, Status.REWIND]) is Status.STOP
    assert worst([]) is Status.NOTFOUND
    assert STATUS_CODES == {"NOTFOUND": -1, "OK": 0, "WARN": 1, "REWIND": 2, "STALL": 3, "STOP": 4}
    assert str(Status.WARN) == "WARN"


def test_last_change_and_rates():
    samples = window([(1, 10), (5, 20), (5, 30), (5, 40)])
    assert last_change_at(samples) == 1.0
    assert rate(samples, "end") == pytest.approx(10.0)
    assert rate(samples, "committed") == pytest.approx(4 / 3)
    assert rate(samples[:1], "end") is None


def test_lag_window_slides_and_remembers_when_the_offset_last_moved():
    lag = LagWindow(size=3, interval=1.0, history_size=10)
    for i, (committed, end) in enumerate([(0, 10), (4, 14), (8, 18), (8, 18), (8, 18), (8, 18)]):
        lag.add("g", "t", 0, Sample(float(i), committed, end))
        if i == 1:
            assert lag.status("g", "t", 0) is Status.OK
    part = lag.partitions[("g", "t", 0)]
    assert len(part.samples) == 3 and len(part.history) == 6
    assert part.unchanged_since == 2.0
    # offset unchanged since t=2, window spans t=3..5 (2 s): 3 s > 2 s, and nobody known to own it: STOP
    assert lag.status("g", "t", 0) is Status.STOP
    lag.forget(set())
    assert lag.partitions == {}
    with pytest.raises(ValueError):
        LagWindow(size=1)


def test_lag_window_growing_lag_then_consumer_catches_up():
    lag = LagWindow(size=4)
    statuses = []
    for i, (committed, end) in enumerate([(0, 5), (2, 10), (4, 15), (6, 20), (20, 22), (24, 24)]):
        lag.add("g", "t", 0, Sample(float(i), committed, end, True))
        statuses.append(lag.status("g", "t", 0))
    assert statuses[3] is Status.WARN
    assert statuses[-1] is Status.OK
