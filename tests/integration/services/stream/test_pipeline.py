"""The foundation, end to end on the real broker: sample data in, ranked matches out, both ways."""

from __future__ import annotations

import json

import pytest

from matcher import load_embedder, rank_challenges_offline
from schemas import Challenge, CompanyProfile, MatchResult
from services.datasets import load_jsonl
from services.kafka.publisher import Publisher, publish_file
from services.kafka.results import latest_rankings, read_matches
from services.settings import Settings

pytestmark = pytest.mark.integration

SAMPLE = Settings().sample_data_dir
CHALLENGES = load_jsonl(SAMPLE / "challenges.jsonl", Challenge)
COMPANIES = load_jsonl(SAMPLE / "companies.jsonl", CompanyProfile)


def results(settings: Settings) -> list[MatchResult]:
    return list(read_matches(settings))


@pytest.fixture(scope="module")
def published(namespace, worker):
    """Companies first, then challenges, each drained: the order the demo uses."""
    with Publisher.from_settings(namespace) as publisher:
        publish_file(publisher, "companies", SAMPLE / "companies.jsonl")
        worker.drain()
        publish_file(publisher, "challenges", SAMPLE / "challenges.jsonl")
        worker.drain()
    return namespace


def test_every_open_challenge_gets_a_ranked_list(published):
    rankings = latest_rankings(iter(results(published)), trigger="challenge")
    for challenge in CHALLENGES:
        ranking = rankings.get(challenge.challenge_id, [])
        if challenge.status == "closed":
            assert ranking == [], "a closed challenge is never matched"
            continue
        assert 1 <= len(ranking) <= published.top_k, challenge.challenge_id
        assert [r.rank for r in ranking] == list(range(1, len(ranking) + 1))
        assert [r.score for r in ranking] == sorted((r.score for r in ranking), reverse=True)
        assert all(r.reasons and r.components for r in ranking)
        withdrawn = {c.company_id for c in COMPANIES if c.status == "withdrawn"}
        assert not withdrawn & {r.company_id for r in ranking}


def test_worker_ranking_equals_offline_rank(published):
    """One matcher, two front doors: `matchmaker rank` and the stream agree on the same data."""
    offline = rank_challenges_offline(CHALLENGES, COMPANIES, load_embedder(published.model), top_k=published.top_k)
    streamed = latest_rankings(iter(results(published)), trigger="challenge")
    for challenge in CHALLENGES:
        expected = offline[challenge.challenge_id]
        got = streamed.get(challenge.challenge_id, [])
        assert len(got) == len(expected), challenge.challenge_id
        for want, have in zip(expected, got, strict=True):
            assert have.score == pytest.approx(want.score, abs=1e-4)
            if have.company_id != want.company_id:  # only a near-tie may swap places
                assert abs(have.score - want.score) < 1e-4


def test_company_published_after_the_challenges_is_matched(published, worker):
    newcomer = CompanyProfile(
        company_id="late-co-1",
        version=1,
        name="Kerrostalojen Biojätetiimi",
        business_id="2617416-4",
        description="We raise biowaste sorting in rental apartment blocks: stairwell nudges, "
        "kitchen caddies and resident feedback on how much biowaste each building sorts.",
        offerings=["biowaste sorting campaigns", "sorting feedback for housing companies"],
        tags=["biowaste", "recycling", "housing"],
    )
    with Publisher.from_settings(published) as publisher:
        publisher.publish_company(newcomer)
    worker.drain()
    own = [r for r in results(published) if r.company_id == "late-co-1"]
    assert own and all(r.trigger == "company" for r in own)
    ranked = [r.challenge_id for r in sorted(own, key=lambda r: r.rank)]
    assert ranked[0] == "ch-tre-003", ranked  # the biowaste challenge comes first
    assert "ch-esp-002" not in ranked, "closed challenges are never matched"


def test_updated_profile_produces_new_matches(published, worker):
    original = next(c for c in COMPANIES if c.company_id == "co-0023")
    updated = original.model_copy(
        update={"version": 2, "description": original.description + " Now also in day-care centres."}
    )
    with Publisher.from_settings(published) as publisher:
        publisher.publish_company(updated)
    worker.drain()
    fresh = [r for r in results(published) if r.company_id == "co-0023" and r.company_version == 2]
    assert fresh and all(r.trigger == "company" for r in fresh)
    assert "ch-esp-001" in {r.challenge_id for r in fresh}


def test_tombstone_removes_company_from_later_rankings(published, worker):
    before = latest_rankings(iter(results(published)), trigger="challenge")["ch-esp-001"]
    removed = before[0].company_id
    challenge = next(c for c in CHALLENGES if c.challenge_id == "ch-esp-001")
    with Publisher.from_settings(published) as publisher:
        publisher.delete_company(removed)
        publisher.flush()
        worker.drain()
        publisher.publish_challenge(challenge.model_copy(update={"version": 2}))
    worker.drain()
    after = latest_rankings(iter(results(published)), trigger="challenge")["ch-esp-001"]
    assert after[0].challenge_version == 2
    assert removed not in {r.company_id for r in after}


def test_invalid_event_goes_to_dead_letters_and_valid_ones_still_flow(published, worker):
    from kafka import TopicPartition

    from services.kafka import clients

    with Publisher.from_settings(published) as publisher:
        publisher.send_raw(published.topic_challenges, b"bad-1", b"{not json")
        publisher.send_raw(
            published.topic_companies, b"bad-2", json.dumps({"company_id": "bad-2", "version": 1}).encode()
        )
        publisher.publish_challenge(CHALLENGES[0].model_copy(update={"challenge_id": "after-bad", "version": 1}))
    worker.drain()
    consumer = clients.consumer(published, client_id="matchmaker-test", consumer_timeout_ms=3000)
    tp = TopicPartition(published.topic_dead_letters, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    letters = [json.loads(r.value) for r in consumer]
    consumer.close()
    reasons = {letter["key"]: letter["reason"] for letter in letters}
    assert "not JSON" in reasons["bad-1"]
    assert "name" in reasons["bad-2"] and "business_id" in reasons["bad-2"]
    assert any(r.challenge_id == "after-bad" for r in results(published))
