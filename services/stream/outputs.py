"""What the shard and merge stages send to the matches topic, and waiting for the broker's acks."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import faust

from matcher import Match
from schemas import MatchResult
from services.stream import metrics

if TYPE_CHECKING:
    from services.stream.embed import Encoder


async def confirm(pending: list) -> None:
    """Wait until the broker acknowledged every message sent (acks=all)."""
    if pending:
        await asyncio.gather(*pending)


class MatchOutput:
    """Sends MatchResults (key: company_id) to the matches topic, counting them and their latency."""

    def __init__(self, matches: faust.TopicT, encoder: Encoder) -> None:
        self.matches = matches
        self.encoder = encoder

    async def emit(self, match: Match, trigger: str, source_timestamp: float | None):
        """Send one match; returns the pending send (see `confirm`)."""
        result = MatchResult.create(
            challenge_id=match.challenge_id,
            company_id=match.company_id,
            challenge_version=match.challenge_version,
            company_version=match.company_version,
            rank=match.rank,
            score=match.score,
            components=match.components,
            reasons=list(match.reasons),
            trigger=trigger,
            model=self.encoder.model.name,
        )
        metrics.MATCHES_EMITTED.labels(trigger).inc()
        if source_timestamp:
            metrics.MATCH_LATENCY.labels(trigger).observe(max(0.0, time.time() - source_timestamp))
        return await self.matches.send(key=match.company_id.encode(), value=result.model_dump_json().encode())
