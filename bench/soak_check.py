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
  the threshold, so a short, noisy run does not cry wolf.
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


def rss_slope(samples: Sequence[tuple[float, float]]) -> Slope:
    """Least-squares slope of (seconds, bytes) samples, in MB (10^6 bytes) per hour."""
    n = len(samples)
    if n < 3:
        return Slope(0.0, math.inf, n, 0.0)
    hours = [t / 3600 for t, _ in samples]
    mb = [b / 1e6 for _, b in samples]
    mean_t, mean_y = sum(hours) / n, sum(mb) / n
    sxx = sum((t - mean_t) ** 2 for t in hours)
    if sxx == 0:
        return Slope(0.0, math.inf, n, 0.0)
    slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(hours, mb, strict=True)) / sxx
    residual = sum((y - mean_y - slope * (t - mean_t)) ** 2 for t, y in zip(hours, mb, strict=True))
    stderr = math.sqrt(residual / (n - 2) / sxx)
    return Slope(slope, stderr, n, samples[-1][0] - samples[0][0])


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


def leak(samples: Sequence[tuple[float, float]], threshold_mb_per_hour: float) -> Leak:
    return Leak(rss_slope(second_half(samples)), threshold_mb_per_hour)
