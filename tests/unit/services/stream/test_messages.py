"""Internal messages and table records: typed in code, the same JSON on the wire as before.

Every type round-trips (model -> bytes -> model), and records in the format written before the
types existed (kept in changelogs and internal topics) still decode.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from matcher import Match
from schemas import DeadLetter
from services.delivery.messages import (
    DELIVERED,
    PENDING,
    ChallengeStatus,
    DeliveryEntry,
)
from services.kafka import codec
from services.stream.messages import EntityRecord, MergeState, Partial, ShardInput
from services.versioning import Closure

ENTITY = {"company_id": "co-1", "version": 2, "name": "Oy", "description": "D"}
VECTOR = codec.encode_vector(np.arange(4, dtype=np.float32))
MATCH = Match("ch-1", "co-1", 3, 2, 0.75, {"semantic": 0.7}, ("shared tag: ai",))
MATCH_DICT = {
    "challenge_id": "ch-1",
    "company_id": "co-1",
    "challenge_version": 3,
    "company_version": 2,
    "score": 0.75,
    "components": {"semantic": 0.7},
    "reasons": ["shared tag: ai"],
}


def _bytes(data: dict) -> bytes:
    """How the worker wrote its messages before (codec.to_json_bytes)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- shard input ----------------------------------------------------------------------------------
def test_shard_input_round_trips():
    for message in (
        ShardInput("company", ENTITY, VECTOR, "model-a", 1700000000123),
        ShardInput("challenge", deleted="ch-1", source_timestamp=1700000000123),
        ShardInput("sync"),
    ):
        assert ShardInput.from_json(message.to_json()) == message


def test_shard_input_bytes_are_todays_format():
    embedded = {"kind": "company", "entity": ENTITY, "vector": VECTOR, "model": "model-a", "source_timestamp": 17}
    assert ShardInput("company", ENTITY, VECTOR, "model-a", 17).to_json() == _bytes(embedded)
    deleted = {"kind": "company", "deleted": "co-1", "source_timestamp": 17}
    assert ShardInput("company", deleted="co-1", source_timestamp=17).to_json() == _bytes(deleted)
    assert ShardInput("sync").to_json() == _bytes({"kind": "sync"})


def test_shard_input_of_todays_format_decodes():
    message = ShardInput.from_json(_bytes({"kind": "challenge", "deleted": "ch-9", "source_timestamp": 5}))
    assert (message.kind, message.deleted, message.entity, message.source_timestamp) == ("challenge", "ch-9", None, 5)
    message = ShardInput.from_json(
        _bytes({"kind": "company", "entity": ENTITY, "vector": VECTOR, "model": "m", "source_timestamp": 5})
    )
    assert message.entity == ENTITY and message.deleted is None
    assert np.array_equal(codec.decode_vector(message.vector), np.arange(4, dtype=np.float32))


# -- partials -------------------------------------------------------------------------------------
def test_partial_round_trips():
    partial = Partial("ch-1", 3, 1, 4, 1700000000123, (MATCH,))
    assert Partial.from_json(partial.to_json()) == partial
    alerting = Partial("ch-1", 3, 1, 4, 1700000000123, (MATCH,), (MATCH,))
    assert Partial.from_json(alerting.to_json()) == alerting


def test_a_subscription_travels_to_the_shard_as_its_threshold():
    message = ShardInput("subscription", {"company_id": "co-1", "min_score": 0.3}, source_timestamp=5.0)
    assert ShardInput.from_json(message.to_json()) == message
    gone = ShardInput("subscription", deleted="co-1")
    assert ShardInput.from_json(gone.to_json()) == gone


def test_partial_of_todays_format_decodes():
    raw = _bytes(
        {
            "challenge_id": "ch-1",
            "version": 3,
            "shard": 1,
            "shards": 4,
            "source_timestamp": None,
            "matches": [MATCH_DICT],
        }
    )
    assert Partial.from_json(raw) == Partial("ch-1", 3, 1, 4, None, (MATCH,))
    assert Partial.from_json(raw).to_json() == raw


# -- shard tables ---------------------------------------------------------------------------------
def test_entity_record_round_trips():
    for record in (
        EntityRecord(0, 2, ENTITY, VECTOR, "model-a", sent=True),
        EntityRecord(1, 5, sent=True, erased="deleted"),
        EntityRecord(1, 5, sent=True, erased="withdrawn"),
        EntityRecord(1, 5, sent=True, erased="closed"),
    ):
        assert EntityRecord.from_dict(json.loads(_bytes(record.to_dict()))) == record


def test_entity_record_of_todays_format_decodes():
    stored = {"shard": 0, "version": 2, "entity": ENTITY, "vector": VECTOR, "model": "model-a", "sent": True}
    record = EntityRecord.from_dict(stored)
    assert record.indexed and record.erased is None and record.entity == ENTITY
    assert record.to_dict() == stored
    erased = {"shard": 3, "version": 4, "withdrawn": True, "sent": True}
    record = EntityRecord.from_dict(erased)
    assert not record.indexed and record.erased == "withdrawn" and record.version == 4
    assert record.to_dict() == erased
    assert EntityRecord.from_dict(None) is None


def test_merge_state_round_trips():
    for state in (MergeState(3, {"0": (MATCH,), "2": ()}), MergeState(3, done=True)):
        assert MergeState.from_dict(json.loads(_bytes(state.to_dict()))) == state


def test_merge_state_of_todays_format_decodes():
    waiting = {"version": 3, "parts": {"0": [MATCH_DICT], "1": []}}
    assert MergeState.from_dict(waiting) == MergeState(3, {"0": (MATCH,), "1": ()})
    assert MergeState.from_dict(waiting).to_dict() == waiting
    done = {"version": 3, "done": True}
    assert MergeState.from_dict(done) == MergeState(3, done=True)
    assert MergeState.from_dict(done).to_dict() == done


# -- notifier -------------------------------------------------------------------------------------
SEEN = "2026-01-02T03:04:05.000006+00:00"


def test_delivery_entry_round_trips_in_every_state():
    pending = DeliveryEntry("co-1", "ch-1", 3, 2, 0.75, 1, SEEN, PENDING, match={"match_id": "m-1", "score": 0.75})
    digest = DeliveryEntry("co-1", "ch-1", 3, 2, 0.75, 1, SEEN, PENDING, {"match_id": "m-1"}, "digest-x", SEEN)
    delivered = pending.settled(DELIVERED, SEEN, attempts=2)
    for entry in (pending, digest, delivered):
        assert DeliveryEntry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry


def test_settling_drops_the_match_and_keeps_the_attempts():
    entry = DeliveryEntry("co-1", "ch-1", 3, 2, 0.75, 1, SEEN, PENDING, match={"match_id": "m-1"})
    settled = entry.settled(DELIVERED, "later", attempts=2)
    assert settled.to_dict() == {
        "company_id": "co-1",
        "challenge_id": "ch-1",
        "challenge_version": 3,
        "company_version": 2,
        "score": 0.75,
        "partition": 1,
        "seen_at": SEEN,
        "state": "delivered",
        "settled_at": "later",
        "attempts": 2,
    }
    assert settled.settled("stale", "even later").attempts == 2


def test_delivery_entry_of_todays_format_decodes():
    stored = {
        "company_id": "co-1",
        "challenge_id": "ch-1",
        "challenge_version": 3,
        "company_version": 2,
        "score": 0.75,
        "partition": 1,
        "seen_at": SEEN,
        "state": "pending",
        "match": {"match_id": "m-1"},
        "digest_id": "digest-x",
        "digest_at": SEEN,
    }
    entry = DeliveryEntry.from_dict(stored)
    assert entry.pending and entry.digest_id == "digest-x" and entry.match == {"match_id": "m-1"}
    assert entry.to_dict() == stored
    unsubscribed = {k: v for k, v in stored.items() if k not in ("match", "digest_id", "digest_at")}
    unsubscribed["state"] = "unsubscribed"
    assert DeliveryEntry.from_dict(unsubscribed).to_dict() == unsubscribed
    assert DeliveryEntry.from_dict(None) is None


def test_challenge_status_round_trips_and_reads_todays_format():
    for status in (ChallengeStatus("ch-1", 3, False), ChallengeStatus("ch-1", None, True)):
        assert ChallengeStatus.from_json(status.to_json()) == status
    today = json.dumps({"challenge_id": "ch-1", "version": None, "closed": True}).encode("utf-8")
    assert ChallengeStatus.from_json(today) == ChallengeStatus("ch-1", None, True)
    assert ChallengeStatus("ch-1", None, True).to_json() == today


def test_stale_table_state_reads_todays_format():
    assert Closure.from_dict({"closed": True, "upto": 2, "version": 3}) == Closure(True, 2, 3)


# -- dead letters ---------------------------------------------------------------------------------
def test_dead_letter_round_trips():
    letter = DeadLetter(
        source_topic="companies",
        partition=1,
        offset=7,
        key="co-1",
        reason="r",
        category="not-json",
        seen_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        value="{oops",
        value_encoding="utf-8",
    )
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_the_worker_writes_dead_letters_of_the_contract():
    raw = codec.dead_letter("challenges", 2, 41, b"k", b"\xff\x00", codec.Rejected("r", "not-utf8"))
    letter = DeadLetter.model_validate_json(raw)
    assert (letter.source_topic, letter.partition, letter.offset, letter.key) == ("challenges", 2, 41, "k")
    assert (letter.value_encoding, letter.category) == ("base64", "not-utf8")
    tombstone = DeadLetter.model_validate_json(
        codec.dead_letter("companies", 0, 1, None, None, codec.Rejected("r", "tombstone-without-key"))
    )
    assert tombstone.key is None and tombstone.value is None and tombstone.value_encoding == "null"


def test_dead_letter_of_todays_format_decodes():
    today = {
        "source_topic": "companies",
        "partition": 0,
        "offset": 3,
        "key": "co-1",
        "reason": "not JSON",
        "category": "not-json",
        "seen_at": "2026-01-02T03:04:05.000006+00:00",
        "value": "{oops",
        "value_encoding": "utf-8",
    }
    letter = DeadLetter.model_validate_json(json.dumps(today, ensure_ascii=False))
    assert letter.seen_at == datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert json.loads(letter.model_dump_json()).keys() == today.keys()


def test_the_monitor_reads_dead_letters_through_the_contract():
    from services.ops.monitor import _dead_letter

    raw = codec.dead_letter("companies", 0, 3, b"co-1", b"{oops", codec.Rejected("not JSON", "not-json"))
    shown = _dead_letter({"timestamp": 12.5, "value": json.loads(raw)})
    assert shown["reason"] == "not JSON" and shown["source_topic"] == "companies" and shown["key"] == "co-1"
    assert shown["seen_at"].endswith("+00:00")
    assert _dead_letter({"timestamp": 12.5, "value": "not a record"})["reason"] == "?"
