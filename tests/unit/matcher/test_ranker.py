"""Threshold, top k, reasons, and merging shard partial lists."""

from datetime import date

import numpy as np

from matcher import Ranker, merge_partial_rankings
from matcher.ranker import assign_ranks
from tests.support.factories import make_challenge, make_company

TODAY = date(2027, 1, 1)
TOPICS = [
    "Electric bus charging depots and smart charging for public transport fleets.",
    "Passenger counting sensors for buses and trams with open data interfaces.",
    "Home care for older people: nutrition monitoring and meal services.",
    "Reading assessment app for primary school pupils.",
    "Demand response for heat pumps in city-owned buildings on the reserve market.",
    "Light art and lighting design for dark public squares in winter.",
]


def _vector(rng, dimension=16):
    v = rng.normal(size=dimension).astype(np.float32)
    return v / np.linalg.norm(v)


def _world(n_companies=30, seed=7):
    rng = np.random.default_rng(seed)
    challenge = make_challenge(title="Charging electric buses", description=TOPICS[0], tags=["ev charging", "buses"])
    companies = [
        make_company(
            f"co-{i:03d}", description=TOPICS[i % len(TOPICS)] + f" Team {i}.", tags=["buses"] if i % 2 else []
        )
        for i in range(n_companies)
    ]
    vectors = {c.company_id: _vector(rng) for c in companies}
    return challenge, _vector(rng), companies, vectors


def _ranker(companies, vectors, **kwargs):
    ranker = Ranker(16, **kwargs)
    for company in companies:
        ranker.upsert_company(company, vectors[company.company_id])
    return ranker


def test_top_k_order_and_reasons():
    challenge, query, companies, vectors = _world()
    ranked = _ranker(companies, vectors, top_k=5).rank_companies(challenge, query, TODAY)
    assert [m.rank for m in ranked] == [1, 2, 3, 4, 5]
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    for match in ranked:
        assert 0.0 <= match.score <= 1.0
        assert 1 <= len(match.reasons) <= 3
        assert {"dense", "lexical", "concepts", "tags", "fused"} <= set(match.components)
        assert match.components["fused"] == match.score


def test_min_score_threshold():
    challenge, query, companies, vectors = _world()
    everything = _ranker(companies, vectors, top_k=100).rank_companies(challenge, query, TODAY)
    cut = everything[len(everything) // 2].score
    above = _ranker(companies, vectors, top_k=100, min_score=cut).rank_companies(challenge, query, TODAY)
    assert above and all(m.score >= cut for m in above)
    assert len(above) < len(everything)


def test_merge_of_shard_partials_equals_single_ranking():
    challenge, query, companies, vectors = _world(n_companies=40)
    single = _ranker(companies, vectors, top_k=10).rank_companies(challenge, query, TODAY)
    shards = [companies[i::3] for i in range(3)]
    partials = [_ranker(part, vectors, top_k=10).rank_companies(challenge, query, TODAY) for part in shards]
    assert merge_partial_rankings(partials, top_k=10) == single


def test_rank_challenges_for_a_company():
    rng = np.random.default_rng(1)
    ranker = Ranker(16, top_k=2)
    for i, topic in enumerate(TOPICS):
        ranker.upsert_challenge(make_challenge(f"ch-{i}", title=f"Challenge {i}", description=topic), _vector(rng))
    company = make_company(description=TOPICS[2])
    ranked = ranker.rank_challenges(company, _vector(rng), TODAY)
    assert len(ranked) == 2 and ranked[0].challenge_id == "ch-2"
    ranker.remove_challenge("ch-2")
    assert all(m.challenge_id != "ch-2" for m in ranker.rank_challenges(company, _vector(rng), TODAY))


def test_assign_ranks_breaks_ties_by_id():
    challenge, query, companies, vectors = _world(n_companies=4)
    ranked = _ranker(companies, vectors, top_k=4).rank_companies(challenge, query, TODAY)
    tied = [type(m)(**{**m.__dict__, "score": 0.5}) for m in ranked]
    assert [m.company_id for m in assign_ranks(reversed(tied), 4, key=lambda m: m.company_id)] == sorted(
        m.company_id for m in ranked
    )
