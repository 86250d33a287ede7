"""Stage 3: merge the shards' partial top lists of a challenge into its global top k.

The decision (which partials count, when the ranking is complete) is `decisions.merge_step`; this
stage reads and writes its state in the `merges` table and sends the ranking.
"""

from __future__ import annotations

import faust

from services.kafka.faust_app import ConfirmedTable
from services.settings import Settings
from services.stream.acks import hold, release
from services.stream.decisions import merge_step
from services.stream.messages import MergeState, Partial
from services.stream.outputs import MatchOutput, confirm


class MergeStage:
    """The `merge` agent: partials in (key: challenge_id), the challenge's MatchResults out."""

    def __init__(self, settings: Settings, output: MatchOutput, merges: ConfirmedTable) -> None:
        self.settings = settings
        self.output = output
        self.merges = merges

    async def run(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            hold([event])
            await self.on_partial(Partial.from_json(event.message.value))
            await release(stream, [event], (self.merges,))

    async def on_partial(self, partial: Partial) -> None:
        step = merge_step(MergeState.from_dict(self.merges.get(partial.challenge_id)), partial, self.settings.top_k)
        if step is None:
            return
        state, ranked = step
        if ranked is not None:
            # sent before the state is stored: a crash in between redelivers the partial and re-sends
            # the same match_ids
            await confirm([await self.output.emit(m, "challenge", partial.source_timestamp) for m in ranked])
        self.merges[partial.challenge_id] = state.to_dict()
