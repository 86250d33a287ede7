"""The inbox's matches in memory, bounded: per company the newest `max_per_company`, none older than the
retention period (by produced_at).

Every inbox process holds the matches of every company, so without a bound its memory grew with all
that the `matches` topic ever retained. A match dropped for either bound never comes back when it is
replayed (a restart, a duplicate): it is older than every match kept, or older than the cutoff.
A match is kept as its JSON text plus the fields the inbox sorts and filters on, not as a dict: about
half the memory (900 against 1,800 bytes; docs/operators.md, `python -m bench.inbox_memory`).
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from schemas import MatchResult

SortKey = tuple[float, str]  # (produced_at as unix seconds, match_id): newest first is descending order


class StoredMatch(NamedTuple):
    key: SortKey
    challenge_id: str
    challenge_version: int
    company_version: int
    json: str  # the MatchResult as JSON, decoded only when a page shows it

    def to_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.json)
        return value


class MatchStore:
    """Each company's matches by match_id, with a min-heap of their sort keys to drop the oldest first.

    Not thread-safe: the inbox view holds its lock around every call.
    """

    def __init__(self, max_per_company: int, retention_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.max_per_company = max_per_company
        self.retention_seconds = retention_seconds
        self.clock = clock
        self._matches: dict[str, dict[str, StoredMatch]] = {}
        self._oldest: dict[str, list[SortKey]] = {}  # per company, heap order: [0] is the oldest kept

    def cutoff(self) -> float:
        """Matches produced before this (unix seconds) are past retention."""
        return self.clock() - self.retention_seconds

    def add(self, result: MatchResult) -> bool:
        """Keep `result` unless it is known, past retention, or older than a full company's oldest. True if kept."""
        key = (result.produced_at.timestamp(), result.match_id)
        if key[0] < self.cutoff():
            return False
        own = self._matches.setdefault(result.company_id, {})
        oldest = self._oldest.setdefault(result.company_id, [])
        if result.match_id in own or (len(own) >= self.max_per_company and key < oldest[0]):
            return False
        own[result.match_id] = StoredMatch(
            key, result.challenge_id, result.challenge_version, result.company_version, result.model_dump_json()
        )
        heapq.heappush(oldest, key)
        while len(own) > self.max_per_company:
            del own[heapq.heappop(oldest)[1]]
        return True

    def expire(self) -> int:
        """Drop every match past retention; the number dropped."""
        cutoff, dropped = self.cutoff(), 0
        for company_id, oldest in list(self._oldest.items()):
            own = self._matches[company_id]
            while oldest and oldest[0][0] < cutoff:
                del own[heapq.heappop(oldest)[1]]
                dropped += 1
            if not own:
                del self._matches[company_id], self._oldest[company_id]
        return dropped

    def of(self, company_id: str) -> list[StoredMatch]:
        """A company's matches within retention, in no particular order (even before `expire` ran)."""
        cutoff = self.cutoff()
        return [m for m in self._matches.get(company_id, {}).values() if m.key[0] >= cutoff]

    def stats(self) -> dict[str, int]:
        return {"companies": len(self._matches), "matches": sum(len(m) for m in self._matches.values())}


__all__ = ["MatchStore", "SortKey", "StoredMatch"]
