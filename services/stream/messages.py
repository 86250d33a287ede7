"""The worker's internal messages and table records, typed; the bytes on the wire are unchanged.

Plain dataclasses with explicit converters, so the hot path costs one `json.loads` and a few
attribute copies per event. Field names are the JSON keys written before these types existed:
changelogs and internal topics written by an older worker still load. Absent optional fields are
left out of the JSON (the worker reads "deleted" by its presence, as it always did).

    shard-input topic   ShardInput   {"kind", "entity", "vector", "model", "source_timestamp"[, "source_city"]}
                                     {"kind", "deleted", "source_timestamp"}   (a tombstone)
                                     {"kind": "sync"}                         (build the index now)
                                     {"kind": "subscription", "entity": {"company_id", "min_score"}}
    partials topic      Partial      {"challenge_id", "version", "shard", "shards", "source_timestamp", "matches"
                                      [, "alerts"]}
    companies/challenges EntityRecord {"shard", "version", "entity", "vector", "model", "sent"}
                                     {"shard", "version", "<why>": true, "sent": true[, "owner"]}   (erased)
    alerts table        AlertRecord  {"shard", "min_score"}   (key company_id: the company's alert threshold)
    merges table        MergeState   {"version", "parts": {"<shard>": [match, ...]}[, "alerts": {...}]}
                                     | {"version", "done": true}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from matcher import Match

ShardKind = Literal["company", "challenge", "sync", "subscription"]
Erasure = Literal["deleted", "withdrawn", "closed"]
ERASURES: tuple[Erasure, ...] = ("deleted", "withdrawn", "closed")


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def match_to_dict(match: Match) -> dict[str, Any]:
    return {
        "challenge_id": match.challenge_id,
        "company_id": match.company_id,
        "challenge_version": match.challenge_version,
        "company_version": match.company_version,
        "score": match.score,
        "components": match.components,
        "reasons": list(match.reasons),
    }


def match_from_dict(data: dict[str, Any]) -> Match:
    return Match(**{**data, "reasons": tuple(data["reasons"])})


@dataclass(frozen=True, slots=True)
class ShardInput:
    """One message of the shard-input topic: an embedded entity, a deletion, or a sync request."""

    kind: ShardKind
    entity: dict[str, Any] | None = None  # the validated event, as JSON (model_dump(mode="json"))
    vector: str | None = None  # codec.encode_vector
    model: str | None = None  # the embedder that made `vector`
    source_timestamp: float | None = None  # the source message's timestamp (ms), for latency metrics
    deleted: str | None = None  # the id of a tombstoned entity
    source_city: str | None = None  # set when the event came from a city's own topic (not the trusted one)

    def to_json(self) -> bytes:
        data: dict[str, Any] = {"kind": self.kind}
        if self.deleted is not None:
            data["deleted"] = self.deleted
        else:
            for name in ("entity", "vector", "model", "source_city"):
                value = getattr(self, name)
                if value is not None:
                    data[name] = value
        if self.source_timestamp is not None:
            data["source_timestamp"] = self.source_timestamp
        return _dumps(data)

    @classmethod
    def from_json(cls, raw: bytes) -> ShardInput:
        data = json.loads(raw)
        return cls(
            data["kind"],
            data.get("entity"),
            data.get("vector"),
            data.get("model"),
            data.get("source_timestamp"),
            data.get("deleted"),
            data.get("source_city"),
        )


@dataclass(frozen=True, slots=True)
class Partial:
    """One shard's top list for one challenge version; the merge stage waits for all `shards` of them.

    `alerts`: the alerts of companies in this shard's top list (at most top_k): only the merge knows
    whether they make the global shortlist (then they are not alerted) or not. The shard sends the
    alerts of every other company itself: those cannot be in the global shortlist.
    """

    challenge_id: str
    version: int
    shard: int
    shards: int
    source_timestamp: float | None
    matches: tuple[Match, ...]
    alerts: tuple[Match, ...] = ()

    def to_json(self) -> bytes:
        data = {
            "challenge_id": self.challenge_id,
            "version": self.version,
            "shard": self.shard,
            "shards": self.shards,
            "source_timestamp": self.source_timestamp,
            "matches": [match_to_dict(m) for m in self.matches],
        }
        if self.alerts:
            data["alerts"] = [match_to_dict(m) for m in self.alerts]
        return _dumps(data)

    @classmethod
    def from_json(cls, raw: bytes) -> Partial:
        data = json.loads(raw)
        return cls(
            data["challenge_id"],
            data["version"],
            data["shard"],
            data["shards"],
            data.get("source_timestamp"),
            tuple(match_from_dict(m) for m in data["matches"]),
            tuple(match_from_dict(m) for m in data.get("alerts") or ()),
        )


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """A company (table `companies`, key company_id) or challenge (`challenges`, key "<shard>/<id>") of a shard.

    An erased record (`erased` set) keeps only the id's last version, so replays stay ignored.
    `sent` is True once the outputs of this version were confirmed by the broker.
    """

    shard: int
    version: int
    entity: dict[str, Any] | None = None
    vector: str | None = None
    model: str | None = None
    sent: bool = False
    erased: Erasure | None = None  # stored as the key "<erased>": true
    owner: str | None = None  # a challenge's city, kept when it is erased (who may re-open the id)

    @property
    def indexed(self) -> bool:
        """True when the record holds an entity to index (not erased)."""
        return self.entity is not None

    @property
    def city(self) -> str | None:
        """The city a challenge record belongs to (erased or not); None for companies."""
        if self.entity is not None:
            return self.entity.get("city")
        return self.owner

    def to_dict(self) -> dict[str, Any]:
        if self.erased is not None:
            data: dict[str, Any] = {"shard": self.shard, "version": self.version, self.erased: True, "sent": self.sent}
            if self.owner is not None:
                data["owner"] = self.owner
            return data
        return {
            "shard": self.shard,
            "version": self.version,
            "entity": self.entity,
            "vector": self.vector,
            "model": self.model,
            "sent": self.sent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EntityRecord | None:
        if not data:
            return None
        erased = next((why for why in ERASURES if data.get(why)), None)
        return cls(
            data["shard"],
            data["version"],
            data.get("entity"),
            data.get("vector"),
            data.get("model"),
            bool(data.get("sent")),
            erased,
            data.get("owner"),
        )


@dataclass(frozen=True, slots=True)
class MergeState:
    """The merge stage's progress on one challenge version: the partials so far, or done."""

    version: int
    parts: dict[str, tuple[Match, ...]] = field(default_factory=dict)  # str(shard) -> its top list
    done: bool = False
    alerts: dict[str, tuple[Match, ...]] = field(default_factory=dict)  # str(shard) -> its Partial.alerts

    def to_dict(self) -> dict[str, Any]:
        if self.done:
            return {"version": self.version, "done": True}
        data: dict[str, Any] = {
            "version": self.version,
            "parts": {shard: [match_to_dict(m) for m in part] for shard, part in self.parts.items()},
        }
        alerts = {shard: [match_to_dict(m) for m in part] for shard, part in self.alerts.items() if part}
        if alerts:
            data["alerts"] = alerts
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MergeState | None:
        if not data:
            return None
        parts = {shard: tuple(match_from_dict(m) for m in part) for shard, part in (data.get("parts") or {}).items()}
        alerts = {shard: tuple(match_from_dict(m) for m in part) for shard, part in (data.get("alerts") or {}).items()}
        return cls(data["version"], parts, bool(data.get("done")), alerts)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A company's alert threshold as its shard keeps it (table `alerts`, key company_id); no record: none."""

    shard: int
    min_score: float

    def to_dict(self) -> dict[str, Any]:
        return {"shard": self.shard, "min_score": self.min_score}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AlertRecord | None:
        if not data:
            return None
        return cls(data["shard"], float(data["min_score"]))
