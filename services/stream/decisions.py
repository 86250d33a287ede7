"""The worker's decisions, pure (no Faust, Kafka or asyncio), so every case is unit-tested.

- `skip_reason`: whether a shard applies an entity event, given the record it stored for the id
  (services.versioning's rule, plus the worker's own: a duplicate whose outputs were confirmed is
  skipped, one whose outputs were not is applied again, re-sending the same match_ids).
- `merge_step`: the merge stage's progress on one challenge when one shard's partial top list
  arrives; once every shard has reported for the newest version, the global top list.
- `split_alerts` (shard) and `merged_alerts` (merge): which alerts a shard sends itself and which wait
  for the global shortlist, so no company is alerted of a pair it is shortlisted for.
- `alert_change`: whether a subscription event changes a company's alert threshold.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from matcher import Match, merge_partial_rankings
from services import versioning
from services.stream.messages import AlertRecord, EntityRecord, MergeState, Partial

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
    alerts = {} if state is None or decision.wins else state.alerts
    alerts = {shard: held for shard, held in alerts.items() if shard != str(partial.shard)}
    if partial.alerts:  # (kept only when there are some: most shards hold back none)
        alerts[str(partial.shard)] = partial.alerts
    if len(parts) < partial.shards:
        return MergeState(partial.version, parts, alerts=alerts), None
    return MergeState(partial.version, done=True), merge_partial_rankings(parts.values(), top_k)


def merge_alerts(state: MergeState | None, partial: Partial, ranked: list[Match], top_k: int) -> list[Match]:
    """When `partial` completed the ranking `ranked` (see merge_step; `state` is the state before it):
    the shards' held-back alerts of companies that did not make the shortlist, best first, numbered
    after it (see `number_alerts`)."""
    held = dict(state.alerts) if state is not None and state.version == partial.version and not state.done else {}
    held[str(partial.shard)] = partial.alerts
    shortlisted = {m.company_id for m in ranked}
    rest = sorted(
        (m for part in held.values() for m in part if m.company_id not in shortlisted),
        key=lambda m: (-m.score, m.company_id),
    )
    return number_alerts(rest, top_k)


def number_alerts(alerts: list[Match], top_k: int) -> list[Match]:
    """Alerts sent together, best first, ranked top_k + 1, top_k + 2, ...: after the shortlist, among
    themselves (not a global rank: alerts come from several shards; their score is what compares)."""
    return [replace(m, rank=top_k + i) for i, m in enumerate(alerts, start=1)]


def split_alerts(top: list[Match], alerts: list[Match], top_k: int) -> tuple[list[Match], list[Match]]:
    """A shard's alerts for one challenge: (those it sends now, those it hands to the merge stage).

    A company outside the shard's own top list cannot be in the global shortlist (the global order is
    the shards' order, merged), so the shard alerts it at once; one in the shard's top list may make the
    shortlist, which only the merge stage knows. So a Partial carries at most top_k alerts, however many
    companies a challenge alerts.
    """
    local = {m.company_id for m in top}
    now = number_alerts([m for m in alerts if m.company_id not in local], top_k)
    return now, [m for m in alerts if m.company_id in local]


def alert_change(previous: AlertRecord | None, min_score: float | None) -> bool:
    """True when a subscription event sets a new threshold or removes one (min_score None); a replay of
    the current subscription (or of an unsubscribe) changes nothing and alerts nobody again."""
    if min_score is None:
        return previous is not None
    return previous is None or previous.min_score != min_score
