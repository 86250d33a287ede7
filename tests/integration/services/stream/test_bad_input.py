"""Bad input never crashes the worker and is never dropped silently: it becomes a dead letter."""

from __future__ import annotations

import json

import pytest

from services.errors import MessageTooLarge
from services.kafka.publisher import Publisher
from tests.support.kafka import (
    all_matches,
    challenge,
    company,
    dead_letters,
    metric,
    scrape,
)

pytestmark = pytest.mark.integration

VALID_COMPANY = json.loads(company("co-x").model_dump_json())
VALID_CHALLENGE = json.loads(challenge("ch-x").model_dump_json())


def as_bytes(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


# (topic kind, key, value, category expected in the dead letter, words expected in the reason)
BAD = [
    ("challenges", b"nj", b"{this is not json", "not-json", "not JSON"),
    ("challenges", b"nu", b"\xff\xfe\x00bad", "not-utf8", "not UTF-8"),
    ("challenges", b"arr", b"[1, 2, 3]", "not-an-object", "JSON object"),
    ("companies", b"miss", as_bytes({"company_id": "miss", "version": 1}), "missing-field", "name: Field required"),
    (
        "companies",
        b"type",
        as_bytes({**VALID_COMPANY, "company_id": "type", "version": "one"}),
        "invalid-version",
        "version",
    ),
    (
        "challenges",
        b"city",
        as_bytes({**VALID_CHALLENGE, "challenge_id": "city", "city": "Stockholm"}),
        "invalid-city",
        "city",
    ),
    (
        "companies",
        b"ytun",
        as_bytes({**VALID_COMPANY, "company_id": "ytun", "business_id": "2617416-5"}),
        "invalid-business-id",
        "check digit",
    ),
    (
        "challenges",
        b"blank",
        as_bytes({**VALID_CHALLENGE, "challenge_id": "blank", "title": "   "}),
        "invalid-title",
        "title",
    ),
    (
        "challenges",
        b"long",
        as_bytes({**VALID_CHALLENGE, "challenge_id": "long", "description": "x" * 9001}),
        "invalid-description",
        "8000",
    ),
    ("challenges", b"other-key", as_bytes({**VALID_CHALLENGE, "challenge_id": "keyed"}), "key-mismatch", "differs"),
    (
        "challenges",
        b"budget",
        as_bytes({**VALID_CHALLENGE, "challenge_id": "budget", "budget_eur": -5}),
        "invalid-budget-eur",
        "budget_eur",
    ),
    (
        "challenges",
        b"date",
        as_bytes({**VALID_CHALLENGE, "challenge_id": "date", "deadline": "next spring"}),
        "invalid-deadline",
        "deadline",
    ),
]


@pytest.fixture(scope="module")
def flooded(namespace, worker):
    """Bad messages interleaved with valid ones, several valid versions of one key among them."""
    topics = {"challenges": namespace.topic_challenges, "companies": namespace.topic_companies}
    with Publisher.from_settings(namespace) as publisher:
        publisher.publish_company(company("co-order", version=1))
        for i, (kind, key, value, _, _) in enumerate(BAD):
            publisher.send_raw(topics[kind], key, value)
            if i == 4:
                publisher.publish_company(
                    company("co-order", version=2, description="Indoor air sensors, version two.")
                )
        publisher.send_raw(
            topics["companies"],
            b"co-order",
            as_bytes({**VALID_COMPANY, "company_id": "co-order", "version": 3, "business_id": "1"}),
        )
        publisher.publish_company(company("co-order", version=4, description="Indoor air sensors, version four."))
        extra = {**VALID_CHALLENGE, "challenge_id": "ch-extra", "unknown_field": {"nested": True}}
        publisher.send_raw(topics["challenges"], b"ch-extra", as_bytes(extra))
        hostile = {
            **VALID_CHALLENGE,
            "challenge_id": "ch-html",
            "description": "<script>alert('x')</script>\u0007 indoor air in schools",
        }
        publisher.send_raw(topics["challenges"], b"ch-html", as_bytes(hostile))
    worker.drain()
    return namespace


def test_every_bad_message_is_a_dead_letter_with_its_reason(flooded):
    letters = {letter["key"]: letter for letter in dead_letters(flooded)}
    for kind, key, _value, category, words in BAD:
        letter = letters[key.decode()]
        assert letter["category"] == category, (key, letter)
        assert words in letter["reason"], (key, letter["reason"])
        assert letter["source_topic"].endswith(kind) and letter["offset"] >= 0 and letter["seen_at"]
    assert letters["nu"]["value_encoding"] == "base64"
    assert letters["co-order"]["category"] == "invalid-business-id"
    assert len(letters) == len(BAD) + 1


def test_valid_messages_around_bad_ones_are_all_processed_in_order(flooded):
    results = all_matches(flooded)
    versions = sorted({r.company_version for r in results if r.company_id == "co-order"})
    assert versions[-1] == 4, versions
    triggered = {r.challenge_id for r in results if r.trigger == "challenge"}
    assert {"ch-extra", "ch-html"} <= triggered, "unknown fields are ignored; HTML is kept as text"


def test_dead_letters_are_counted_per_reason(flooded, worker):
    samples = scrape(flooded.worker_web_port)
    assert metric(samples, "matchmaker_dead_letters_total", reason="not-json") == 1
    assert metric(samples, "matchmaker_dead_letters_total", reason="invalid-business-id") == 2
    total = sum(v for (name, _), v in samples.items() if name == "matchmaker_dead_letters_total")
    assert total == len(BAD) + 1


def test_worker_survived(flooded, worker):
    assert worker.alive


def test_oversized_message_is_refused_by_the_producer_with_a_clear_error(namespace):
    with Publisher.from_settings(namespace) as publisher:
        with pytest.raises(MessageTooLarge, match="over this producer's limit"):
            publisher.send_raw(namespace.topic_challenges, b"huge", b"x" * 2_000_000)
