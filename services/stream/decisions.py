"""The worker's decisions, pure (no Faust, Kafka or asyncio), so every case is unit-tested.

- `skip_reason`: whether a shard applies an entity event, given the record it stored for the id
  (services.versioning's rule, plus the worker's own: a duplicate whose outputs were confirmed is
  skipped, one whose outputs were not is applied again, re-sending the same match_ids).
- `merge_step`: the merge stage's progress on one challenge when one shard's partial top list
  arrives; once every shard has reported for the newest version, the global top list.
"""

from __future__ import annotations

from typing import Literal

from matcher import Match, merge_partial_rankings
from services import versioning
from services.stream.messages import EntityRecord, MergeState, Partial

SkipReason = Literal["stale", "duplicate"]


def skip_reason(previous: EntityRecord | None, version: int) -> SkipReason | None:
    """Why an incoming version is not applied (the `why` label of the ignored-events metric), or None.

    "stale": an older version than the stored one (erased records keep their last version for this).
    "duplicate": the stored version again, and its outputs were already confirmed by the broker.
    """
    decision = versioning.decide(previous.version if previous is not None else None, version)
    if decision is versioning.Decision.STALE:
        return "stale"
    if decision is versioning.Decision.DUPLICATE and previous is not None and previous.sent:
        return "duplicate"
    return None


def foreign_city(previous: EntityRecord | None, source_city: str | None) -> bool:
    """True when a city's own topic carries a challenge id that another city's challenge already has.

    A city may not take over (or re-open) another city's challenge by reusing its id; the trusted
    topic (source_city None: the API, which checks ownership itself, or the operator) may.
    """
    if source_city is None or previous is None:
        return False
    owner = previous.city
    return owner is not None and owner != source_city


def merge_step(state: MergeState | None, partial: Partial, top_k: int) -> tuple[MergeState, list[Match] | None] | None:
    """The merge state after `partial`, and the merged top list when this partial completed it.

    None: the partial changes nothing (an older version than the one being merged, or a partial of a
    version already merged). A newer version starts over; a shard reporting again for the version
    being merged replaces its own list (a redelivery). Complete when `partial.shards` shards reported:
    the state is then `done` and the ranking is returned, to be sent before the state is stored.
    """
    decision = versioning.decide(state.version if state is not None else None, partial.version)
    if decision is versioning.Decision.STALE:
        return None
    if decision is versioning.Decision.DUPLICATE and state is not None and state.done:
        return None
    parts = {} if state is None or decision.wins else state.parts
    parts = {**parts, str(partial.shard): partial.matches}
    if len(parts) < partial.shards:
        return MergeState(partial.version, parts), None
    return MergeState(partial.version, done=True), merge_partial_rankings(parts.values(), top_k)
