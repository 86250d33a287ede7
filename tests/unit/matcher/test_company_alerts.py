"""Alerts: every subscribed company at or above its own threshold, whatever its rank, under the shortlist's rules."""

from datetime import date

import numpy as np

from matcher import Ranker
from matcher.scoring import fuse, upper_bound
from tests.support.factories import make_challenge, make_company
from tests.unit.matcher.test_ranker import TODAY, _ranker, _world


def _scores(ranker, challenge, query):
    """Every allowed company's score, from a shortlist as long as the data."""
    everyone = Ranker(16, top_k=10_000)
    everyone._companies = ranker._companies
    return {m.company_id: m for m in everyone.rank_companies(challenge, query, TODAY)}


def test_every_subscribed_company_at_or_above_its_threshold_is_alerted():
    challenge, query, companies, vectors = _world(n_companies=40)
    ranker = _ranker(companies, vectors, top_k=3)
    scores = _scores(ranker, challenge, query)
    ordered = sorted(scores.values(), key=lambda m: -m.score)
    # subscribe everyone: half just below their own score, half at it
    for i, match in enumerate(ordered):
        ranker.set_alert_threshold(match.company_id, match.score + (0.001 if i % 2 else 0.0))
    top, alerts = ranker.rank_and_alert(challenge, query, TODAY)
    assert [m.company_id for m in top] == [m.company_id for m in ordered[:3]]
    expected = {m.company_id for i, m in enumerate(ordered) if i % 2 == 0}
    assert {m.company_id for m in alerts} == expected  # the top ones included: the merge drops those
    assert [m.rank for m in alerts] == list(range(1, len(alerts) + 1))
    for alert in alerts:  # the same score, components and reasons as the shortlist computes
        same = scores[alert.company_id]
        assert (alert.score, alert.components, alert.reasons) == (same.score, same.components, same.reasons)


def test_only_subscribed_companies_and_the_same_rules():
    challenge, query, companies, vectors = _world(n_companies=12)
    ranker = _ranker(companies, vectors, top_k=2)
    excluded = make_company("co-elsewhere", description=challenge.description, cities_of_interest=["Oulu"])
    withdrawn = make_company("co-withdrawn", description=challenge.description, status="withdrawn")
    for company in (excluded, withdrawn):
        ranker.upsert_company(company, query)
    for company_id in ("co-000", "co-elsewhere", "co-withdrawn"):
        ranker.set_alert_threshold(company_id, 0.0)
    assert challenge.city != "Oulu"
    _, alerts = ranker.rank_and_alert(challenge, query, TODAY)
    assert [m.company_id for m in alerts] == ["co-000"]
    closed = challenge.model_copy(update={"status": "closed"})
    assert ranker.rank_and_alert(closed, query, TODAY) == ([], [])
    past = challenge.model_copy(update={"deadline": date(2026, 12, 31)})
    assert ranker.rank_and_alert(past, query, TODAY) == ([], [])


def test_threshold_survives_upserts_and_can_be_removed():
    challenge, query, companies, vectors = _world(n_companies=5)
    ranker = Ranker(16, top_k=1)
    ranker.set_alert_threshold("co-003", 0.0)  # before the company is known
    for company in companies:
        ranker.upsert_company(company, vectors[company.company_id])
    ranker.upsert_company(companies[3].model_copy(update={"version": 2}), vectors["co-003"])
    ranker.remove_company("co-000")  # moves the last row: thresholds move with their rows
    assert [m.company_id for m in ranker.rank_and_alert(challenge, query, TODAY)[1]] == ["co-003"]
    ranker.set_alert_threshold("co-003", None)
    assert ranker.rank_and_alert(challenge, query, TODAY)[1] == []
    # a new company in the freed row is not subscribed
    ranker.upsert_company(make_company("co-new"), vectors["co-000"])
    assert ranker.rank_and_alert(challenge, query, TODAY)[1] == []


def test_a_late_subscriber_hears_of_every_open_challenge_above_its_threshold():
    rng = np.random.default_rng(3)
    ranker = Ranker(16, top_k=1)
    company = make_company("co-1")
    vector = rng.normal(size=16).astype(np.float32)
    ranker.upsert_company(company, vector / np.linalg.norm(vector))
    for i in range(6):
        v = rng.normal(size=16).astype(np.float32)
        ranker.upsert_challenge(make_challenge(f"ch-{i}", description=f"Challenge {i}."), v / np.linalg.norm(v))
    ranker.upsert_challenge(make_challenge("ch-closed", status="closed"), vector / np.linalg.norm(vector))
    every = ranker.alert_challenges(company, 0.0, TODAY)
    assert {m.challenge_id for m in every} == {f"ch-{i}" for i in range(6)}
    cut = sorted(m.score for m in every)[3]
    assert {m.challenge_id for m in ranker.alert_challenges(company, cut, TODAY)} == {
        m.challenge_id for m in every if m.score >= cut
    }


def test_upper_bound_is_never_below_the_score():
    rng = np.random.default_rng(1)
    raw = {name: rng.uniform(0, 1, 500) for name in ("dense", "lexical", "terms", "concepts", "domains", "tags")}
    score = fuse(raw)
    for known in (["dense"], ["dense", "concepts"], ["dense", "concepts", "domains", "tags"]):
        assert np.all(upper_bound({name: raw[name] for name in known}) >= score - 1e-12)
    assert np.allclose(upper_bound(raw), score)


def test_alert_count_is_the_number_of_alerts():
    challenge, query, companies, vectors = _world(n_companies=30)
    ranker = _ranker(companies, vectors, top_k=3)
    for i, company in enumerate(companies):
        ranker.set_alert_threshold(company.company_id, 0.05 * (i % 10))
    assert ranker.alert_count(challenge, query, TODAY) == len(ranker.rank_and_alert(challenge, query, TODAY)[1]) > 0
