"""The inbox's memory per stored match, measured with tracemalloc: the figure docs/operators.md quotes.

.venv/bin/python -m bench.inbox_memory [--matches 10000]
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime, timedelta

from schemas import MatchResult
from services.delivery.inbox import InboxView
from services.settings import DeliverySettings, Settings


def realistic_match(i: int, company_id: str = "co-0001", now: datetime | None = None) -> MatchResult:
    """A match shaped like the worker's: every signal in `components`, three reasons, a distinct challenge."""
    components = {"dense": 0.71, "lexical": 0.2, "terms": 0.13, "concepts": 0.4, "domains": 0.5, "tags": 0.33}
    return MatchResult.create(
        challenge_id=f"ch-helsinki-{i:06d}",
        company_id=company_id,
        challenge_version=3,
        company_version=2,
        rank=1 + i % 10,
        score=0.61234,
        components={**components, "fused": 0.61234},
        reasons=[
            "shared concepts: energy efficiency, district heating, sensors",
            "shared tags: iot, energy",
            "city fit: works in Helsinki",
        ],
        trigger="challenge",
        model="all-MiniLM-L6-v2",
        produced_at=(now or datetime.now(UTC)) - timedelta(seconds=i),
    )


def inbox_bytes_per_match(n: int = 10_000) -> float:
    """Bytes the inbox view keeps per match, over `n` matches of one company (all kept: the cap is n)."""
    settings = Settings().model_copy(update={"delivery": DeliverySettings(inbox_max_per_company=n)})
    view = InboxView(settings)
    values = [realistic_match(i).model_dump_json().encode() for i in range(n)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for value in values:  # as the view's thread applies records read from Kafka
            view._apply(settings.topic_matches, b"co-0001", value)
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert view.stats()["matches"] == n
    return used / n


__all__ = ["inbox_bytes_per_match", "realistic_match"]
