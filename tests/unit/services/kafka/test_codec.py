"""Decoding raw Kafka messages: every refusal has a reason a city developer understands."""

from __future__ import annotations

import base64
import json

import numpy as np

from schemas import Challenge
from services.kafka import codec

CHALLENGE = {"challenge_id": "ch-1", "version": 1, "city": "Oulu", "title": "T", "description": "D"}


def test_valid_message_decodes():
    event = codec.decode("challenge", b"ch-1", json.dumps(CHALLENGE).encode())
    assert isinstance(event, Challenge) and event.city == "Oulu"


def test_null_value_is_a_tombstone():
    assert codec.decode("company", b"co-1", None) == codec.Tombstone("company", "co-1")


def test_refusals_say_why():
    cases = {
        b"\xff\xfe": "not UTF-8",
        b"{oops": "not JSON",
        b"[1, 2]": "JSON object, not a JSON list",
        json.dumps({**CHALLENGE, "city": "Bergen"}).encode(): "city:",
    }
    for value, words in cases.items():
        rejected = codec.decode("challenge", b"ch-1", value)
        assert isinstance(rejected, codec.Rejected) and words in rejected.reason, (value, rejected)


def test_key_must_equal_the_id():
    rejected = codec.decode("challenge", b"other", json.dumps(CHALLENGE).encode())
    assert isinstance(rejected, codec.Rejected) and rejected.category == "key-mismatch"


def test_dead_letter_keeps_non_utf8_value_as_base64():
    record = json.loads(codec.dead_letter("challenges", 2, 41, b"k", b"\xff\x00", codec.Rejected("r", "not-utf8")))
    assert record["value_encoding"] == "base64" and base64.b64decode(record["value"]) == b"\xff\x00"
    assert (record["source_topic"], record["partition"], record["offset"], record["reason"]) == (
        "challenges",
        2,
        41,
        "r",
    )
    assert record["seen_at"]


def test_vectors_round_trip_exactly():
    vector = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    assert np.array_equal(codec.decode_vector(codec.encode_vector(vector)), vector)


# -- a city's own topic ---------------------------------------------------------------------------


def test_a_city_topic_carries_that_citys_challenges_only():
    oulu = codec.decode("challenge", b"ch-1", json.dumps(CHALLENGE).encode())
    assert codec.from_city("Oulu", oulu) is oulu
    refused = codec.from_city("Helsinki", oulu)
    assert isinstance(refused, codec.Rejected) and refused.category == "city-mismatch"
    assert "Helsinki carries a challenge of Oulu" in refused.reason
    assert codec.from_city(None, oulu) is oulu  # the trusted topic: the API checked the city itself


def test_a_city_topic_cannot_delete_because_a_tombstone_names_no_city():
    refused = codec.from_city("Oulu", codec.Tombstone("challenge", "ch-1"))
    assert isinstance(refused, codec.Rejected) and refused.category == "city-tombstone"
    assert '"closed"' in refused.reason


def test_subscription_records_decode_alike_for_every_reader():
    """The notifier, the worker and the API's view all read the subscriptions topic through this."""
    record = json.dumps({"company_id": "co-1", "min_score": 0.4}).encode()
    subscription = codec.decode_subscription(b"co-1", record)
    assert not isinstance(subscription, codec.Rejected | codec.Tombstone)
    assert (subscription.company_id, subscription.min_score, subscription.webhook) == ("co-1", 0.4, False)
    assert codec.decode_subscription(b"co-1", None) == codec.Tombstone("subscription", "co-1")
    refused = {
        "tombstone without key": codec.decode_subscription(None, None),
        "another company's key": codec.decode_subscription(b"co-2", record),
        "not a subscription": codec.decode_subscription(b"co-1", b'{"company_id": "co-1", "min_score": 7}'),
        "not JSON": codec.decode_subscription(b"co-1", b"\xff"),
    }
    assert all(isinstance(r, codec.Rejected) for r in refused.values()), refused
    assert "differs from company_id 'co-1'" in refused["another company's key"].reason
