"""The soak's verdicts, pure (no Kafka, no model), so each rule is unit-tested.

- lost: an expected match_id of the final state never emitted, and unanswered: a challenge version
  published during the run that never got a ranking at all.
- duplicated: results beyond the first for a match_id (harmless to a consumer that de-duplicates by
  match_id, counted all the same).
- stale: for one (challenge, company) pair and one trigger, a result whose versions are older than
  those of a result of the same pair and trigger produced before it. Within one trigger the worker
  applies versions in log order, so that never happens by design; across triggers it may (a challenge's
  ranking waits in the merge stage for its slowest shard while the company side is already newer), so
  triggers are not compared. A stale result whose match_id was emitted before is a redelivery after a
  crash (`resent`): a consumer that de-duplicates drops it; one seen for the first time is a real
  regression (`first`).
- leak: the least-squares slope of RSS over the second half of the run, in MB per hour, with its
  standard error; a leak when even the slope's lower bound (slope minus two standard errors) is above
  the threshold, so a short, noisy run does not cry wolf. The fit is cut at the faults (a settle time
  dropped after each): a worker that takes over every shard after another was killed keeps a step of
  memory (allocator high-water), which is reported apart (`steps`), not mistaken for growth over time.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas import MatchResult


@dataclass(frozen=True)
class Emitted:
    """What the checks need of one MatchResult."""

    match_id: str
    trigger: str
    challenge_id: str
    challenge_version: int
    company_id: str
    company_version: int
    produced_at: float  # seconds since the epoch
    rank: int = 0
    score: float = 0.0

    @classmethod
    def of(cls, result: MatchResult) -> Emitted:
        return cls(
            result.match_id,
            result.trigger,
            result.challenge_id,
            result.challenge_version,
            result.company_id,
            result.company_version,
            result.produced_at.timestamp(),
            result.rank,
            result.score,
        )


def duplicated(results: Iterable[Emitted]) -> int:
    """Results beyond the first of each match_id."""
    return sum(n - 1 for n in Counter(r.match_id for r in results).values())


def lost(expected: set[str], results: Iterable[Emitted]) -> set[str]:
    """Expected match_ids that were never emitted."""
    return expected - {r.match_id for r in results}


def unexpected(expected: set[str], probes: set[tuple[str, str, int]], results: Iterable[Emitted]) -> set[str]:
    """match_ids emitted for a probed (trigger, owner id, owner version) that the offline ranking does not have:
    a company version, a company or a challenge that should no longer be there (an event the worker lost)."""
    out = set()
    for r in results:
        owner = (r.challenge_id, r.challenge_version) if r.trigger == "challenge" else (r.company_id, r.company_version)
        if (r.trigger, *owner) in probes and r.match_id not in expected:
            out.add(r.match_id)
    return out


def unanswered(published: Iterable[tuple[str, int]], results: Iterable[Emitted]) -> list[tuple[str, int]]:
    """Open challenge versions (id, version) that got no ranking (trigger `challenge`) at all."""
    ranked = {(r.challenge_id, r.challenge_version) for r in results if r.trigger == "challenge"}
    return sorted(p for p in set(published) if p not in ranked)


def settled_versions(history: Sequence[tuple[str, int, float, bool]], grace: float) -> list[tuple[str, int]]:
    """The open versions among published (challenge id, version, seconds, open) that stood for `grace` seconds.

    A version replaced sooner may legitimately never be ranked: the merge stage drops a version whose
    shards have not all reported when a newer one arrives (slow shards after a crash).
    """
    out = []
    next_at: dict[str, float] = {}  # walking backwards: when each id was published next
    for challenge_id, version, at, is_open in reversed(history):
        replaced = next_at.get(challenge_id)
        if is_open and (replaced is None or replaced - at >= grace):
            out.append((challenge_id, version))
        next_at[challenge_id] = at
    return out[::-1]


@dataclass(frozen=True)
class Stale:
    first: int  # an older version emitted for the first time after a newer one
    resent: int  # an older match_id emitted again (a redelivery) after a newer one
    examples: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.first + self.resent


def stale(results: Iterable[Emitted], keep_examples: int = 5) -> Stale:
    """Count results produced after a result of the same pair and trigger with newer versions (see module)."""
    pairs: dict[tuple[str, str, str], list[Emitted]] = defaultdict(list)
    for r in results:  # topic order is the tie-break for equal timestamps (sorted() is stable)
        pairs[(r.trigger, r.challenge_id, r.company_id)].append(r)
    first = resent = 0
    examples: list[str] = []
    for (trigger, challenge_id, company_id), emitted in pairs.items():
        seen_versions: set[tuple[int, int]] = set()
        seen_ids: set[str] = set()
        for r in sorted(emitted, key=lambda r: r.produced_at):
            versions = (r.challenge_version, r.company_version)
            if any(c >= versions[0] and k >= versions[1] and (c, k) != versions for c, k in seen_versions):
                if r.match_id in seen_ids:
                    resent += 1
                else:
                    first += 1
                if len(examples) < keep_examples:
                    examples.append(f"{trigger} {challenge_id} v{versions[0]} / {company_id} v{versions[1]}")
            seen_versions.add(versions)
            seen_ids.add(r.match_id)
    return Stale(first, resent, tuple(examples))


@dataclass(frozen=True)
class Slope:
    mb_per_hour: float
    stderr: float  # standard error of the slope, MB per hour
    samples: int
    seconds: float  # the time span fitted


def rss_slope(samples: Sequence[tuple[float, float]], breaks: Sequence[float] = (), settle: float = 0.0) -> Slope:
    """Least-squares slope of (seconds, bytes) samples, in MB (10^6 bytes) per hour.

    With `breaks` (the faults' times) the samples are cut into segments, each without its first `settle`
    seconds, and the slope is the one slope all segments share, each at its own level (a fixed-effects
    fit): growth over time under steady load, not the step a worker takes when it takes over every shard.
    """
    segments: list[list[tuple[float, float]]] = [[]]
    cuts = iter(sorted(breaks))
    cut, since = next(cuts, math.inf), -math.inf
    for t, rss_bytes in sorted(samples):
        while t >= cut:
            segments.append([])
            cut, since = next(cuts, math.inf), cut
        if t >= since + settle:
            segments[-1].append((t / 3600, rss_bytes / 1e6))
    segments = [seg for seg in segments if len(seg) >= 2]
    n = sum(len(seg) for seg in segments)
    sxx = sxy = 0.0
    for seg in segments:
        mean_t, mean_y = sum(t for t, _ in seg) / len(seg), sum(y for _, y in seg) / len(seg)
        sxx += sum((t - mean_t) ** 2 for t, _ in seg)
        sxy += sum((t - mean_t) * (y - mean_y) for t, y in seg)
    spanned = sum(seg[-1][0] - seg[0][0] for seg in segments) * 3600
    if n - len(segments) < 2 or sxx == 0:
        return Slope(0.0, math.inf, n, spanned)
    slope = sxy / sxx
    residual = 0.0
    for seg in segments:
        mean_t, mean_y = sum(t for t, _ in seg) / len(seg), sum(y for _, y in seg) / len(seg)
        residual += sum((y - mean_y - slope * (t - mean_t)) ** 2 for t, y in seg)
    stderr = math.sqrt(residual / (n - len(segments) - 1) / sxx) if n - len(segments) > 1 else math.inf
    return Slope(slope, stderr, n, spanned)


def steps(samples: Sequence[tuple[float, float]], at: Sequence[float], settle: float, window: float) -> list[float]:
    """The RSS step (MB) at each time in `at`: median of `window` s after it (once `settle` s passed) minus the
    median of `window` s before it. How much a worker keeps after taking over every shard."""

    def median(values: list[float]) -> float | None:
        values = sorted(values)
        return values[len(values) // 2] if values else None

    out = []
    for fault in at:
        before = median([b for t, b in samples if fault - window <= t < fault])
        after = median([b for t, b in samples if fault + settle <= t < fault + settle + window])
        if before is not None and after is not None:
            out.append(round((after - before) / 1e6, 1))
    return out


def second_half(samples: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The samples of the second half of the time span (state loaded, the worker in its steady state)."""
    if not samples:
        return []
    middle = (samples[0][0] + samples[-1][0]) / 2
    return [s for s in samples if s[0] >= middle]


@dataclass(frozen=True)
class Leak:
    slope: Slope
    threshold_mb_per_hour: float

    @property
    def leaking(self) -> bool:
        """The slope's lower bound (two standard errors below it) is above the threshold."""
        return self.slope.mb_per_hour - 2 * self.slope.stderr > self.threshold_mb_per_hour


def leak(
    samples: Sequence[tuple[float, float]],
    threshold_mb_per_hour: float,
    breaks: Sequence[float] = (),
    settle: float = 0.0,
) -> Leak:
    """The verdict on the second half of `samples`, cut at `breaks` (see rss_slope)."""
    return Leak(rss_slope(second_half(samples), breaks, settle), threshold_mb_per_hour)
