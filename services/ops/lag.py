"""Consumer-lag evaluation in the manner of Burrow: pure functions over a sliding window of samples.

No Kafka in here (the sampling is services/ops/lag_sampler.py), so every rule is unit-tested.

A *sample* is one observation of one partition for one consumer group: when it was taken, the group's
committed offset, the partition's log-end offset, and whether a live member of the group has the
partition assigned (None when unknown). Burrow evaluates the stream of offset *commits* it reads from
`__consumer_offsets`; we poll committed offsets with the admin client instead, so "a commit" is
approximated by "the committed offset changed", and "the consumer is still committing" by "a live
group member owns the partition". The rules, applied in this order to the window of the last N
samples of a partition (`evaluate_partition`):

1. Fewer than 2 samples, a partition the group never committed, or current lag 0: **OK**.
2. The lag was 0 in any sample of the window: **OK** (Burrow rule 1: it caught up within the window).
3. The committed offset went back between two samples: **REWIND**.
4. The committed offset did not move over the whole window (lag > 0 throughout):
   **STOP** when no live member owns the partition, or, when ownership is unknown, when the offset has
   not changed for longer than the window (no commits for longer than the window);
   **STALL** otherwise (a consumer is there, but its offset is stuck).
5. The committed offset moved, the lag never decreased between two consecutive samples, and it is
   higher at the end of the window than at its start: **WARN** (the consumer is slower than its
   producers: lag growing while offsets advance).
6. Otherwise **OK**.

A group's status is its worst partition's (severity order OK < WARN < REWIND < STALL < STOP);
a group with no committed offsets and no members is **NOTFOUND**.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise


class Status(str, enum.Enum):
    NOTFOUND = "NOTFOUND"
    OK = "OK"
    WARN = "WARN"
    REWIND = "REWIND"
    STALL = "STALL"
    STOP = "STOP"

    @property
    def severity(self) -> int:
        """The value of the `matchmaker_consumergroup_status` gauge: -1 NOTFOUND, 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP."""
        return _SEVERITY[self]

    def __str__(self) -> str:  # "OK", not "Status.OK"
        return self.value


_SEVERITY = {Status.NOTFOUND: -1, Status.OK: 0, Status.WARN: 1, Status.REWIND: 2, Status.STALL: 3, Status.STOP: 4}
STATUS_CODES = {status.value: status.severity for status in Status}


@dataclass(frozen=True)
class Sample:
    at: float  # unix seconds when the offsets were read
    committed: int | None  # the group's committed offset; None = never committed
    end: int  # log-end offset (high watermark)
    active: bool | None = None  # a live group member owns the partition; None = unknown

    @property
    def lag(self) -> int | None:
        return None if self.committed is None else max(0, self.end - self.committed)


def worst(statuses: Iterable[Status]) -> Status:
    statuses = list(statuses)
    return max(statuses, key=lambda s: s.severity) if statuses else Status.NOTFOUND


def last_change_at(samples: Sequence[Sample]) -> float | None:
    """When the current committed offset was first seen, going back through contiguous equal samples."""
    if not samples or samples[-1].committed is None:
        return None
    current, since = samples[-1].committed, samples[-1].at
    for sample in reversed(samples):
        if sample.committed != current:
            break
        since = sample.at
    return since


def evaluate_partition(
    samples: Sequence[Sample],
    *,
    now: float | None = None,
    window_seconds: float | None = None,
    unchanged_since: float | None = None,
) -> Status:
    """Burrow-style status of one partition from its window of samples (oldest first).

    `window_seconds` is the span the window is meant to cover (default: the span of `samples`);
    `unchanged_since` is when the current committed offset was first seen, possibly before the
    window (default: from `samples`); `now` defaults to the last sample's time.
    """
    window = [s for s in samples if s.committed is not None]
    if len(window) < 2:
        return Status.OK
    last = window[-1]
    if last.lag == 0 or any(s.lag == 0 for s in window):
        return Status.OK
    if any(b.committed < a.committed for a, b in pairwise(window)):  # type: ignore[operator]
        return Status.REWIND
    now = last.at if now is None else now
    span = window[-1].at - window[0].at if window_seconds is None else window_seconds
    if all(s.committed == last.committed for s in window):
        if last.active is False:
            return Status.STOP
        since = last_change_at(window) if unchanged_since is None else unchanged_since
        if last.active is None and since is not None and now - since > span:
            return Status.STOP
        return Status.STALL
    lags = [s.lag for s in window]
    if all(b >= a for a, b in pairwise(lags)) and lags[-1] > lags[0]:  # type: ignore[operator]
        return Status.WARN
    return Status.OK


def rate(samples: Sequence[Sample], attribute: str) -> float | None:
    """Messages per second of `committed` (consumption) or `end` (production) over the window."""
    points = [(s.at, getattr(s, attribute)) for s in samples if getattr(s, attribute) is not None]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return max(0.0, (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]))


@dataclass
class PartitionWindow:
    """The sliding window of one (group, topic, partition) plus a longer history for charts."""

    size: int
    history_size: int = 0
    samples: deque = field(init=False)
    history: deque = field(init=False)
    unchanged_since: float | None = None

    def __post_init__(self) -> None:
        self.samples = deque(maxlen=max(1, self.size))
        self.history = deque(maxlen=max(self.size, self.history_size))

    def add(self, sample: Sample) -> None:
        previous = self.samples[-1] if self.samples else None
        if previous is None or sample.committed != previous.committed:
            self.unchanged_since = sample.at
        self.samples.append(sample)
        self.history.append(sample)

    def status(self, window_seconds: float | None = None, now: float | None = None) -> Status:
        return evaluate_partition(
            list(self.samples), now=now, window_seconds=window_seconds, unchanged_since=self.unchanged_since
        )


class LagWindow:
    """Windows of every partition of every group, fed one snapshot at a time."""

    def __init__(self, size: int = 10, interval: float = 1.0, history_size: int = 0) -> None:
        if size < 2:
            raise ValueError("a lag window needs at least 2 samples")
        self.size = size
        self.interval = interval
        self.history_size = history_size
        self.partitions: dict[tuple[str, str, int], PartitionWindow] = {}

    @property
    def window_seconds(self) -> float:
        return (self.size - 1) * self.interval

    def add(self, group: str, topic: str, partition: int, sample: Sample) -> PartitionWindow:
        key = (group, topic, partition)
        window = self.partitions.get(key)
        if window is None:
            window = self.partitions[key] = PartitionWindow(self.size, self.history_size)
        window.add(sample)
        return window

    def forget(self, keep: set[tuple[str, str, int]]) -> None:
        """Drop partitions that are no longer reported (topic deleted, group offsets expired)."""
        for key in [k for k in self.partitions if k not in keep]:
            del self.partitions[key]

    def status(self, group: str, topic: str, partition: int) -> Status:
        window = self.partitions.get((group, topic, partition))
        if window is None:
            return Status.OK
        # Judged on the span the samples actually cover, so sampling jitter cannot flip STALL/STOP.
        return window.status()


def finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value
