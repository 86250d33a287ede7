from datetime import date

import numpy as np

from matcher import Ranker
from matcher.rules import challenge_is_open, city_fits, company_is_active, eligible
from tests.support.factories import make_challenge, make_company

TODAY = date(2027, 1, 1)


def test_city_of_interest():
    challenge = make_challenge(city="Oulu")
    assert city_fits(challenge, make_company(cities_of_interest=[]))  # empty = all six cities
    assert city_fits(challenge, make_company(cities_of_interest=["Oulu", "Turku"]))
    assert not city_fits(challenge, make_company(cities_of_interest=["Helsinki"]))


def test_closed_challenge_and_deadline():
    assert challenge_is_open(make_challenge(), TODAY)
    assert not challenge_is_open(make_challenge(status="closed"), TODAY)
    assert challenge_is_open(make_challenge(deadline="2027-01-01"), TODAY)  # the deadline day still counts
    assert not challenge_is_open(make_challenge(deadline="2026-12-31"), TODAY)


def test_withdrawn_company():
    assert company_is_active(make_company())
    assert not company_is_active(make_company(status="withdrawn"))
    assert not eligible(make_challenge(), make_company(status="withdrawn"), TODAY)


def _ranker_with(companies):
    ranker = Ranker(dimension=2, top_k=10)
    vector = np.array([1.0, 0.0], dtype=np.float32)
    for company in companies:
        ranker.upsert_company(company, vector)
    return ranker, vector


def test_rules_filter_the_ranking_whatever_the_score():
    text = "Electric buses and charging for public transport."
    challenge = make_challenge(city="Oulu", description=text)
    fits = make_company("co-fits", description=text)
    elsewhere = make_company("co-elsewhere", description=text, cities_of_interest=["Turku"])
    withdrawn = make_company("co-gone", description=text, status="withdrawn")
    ranker, vector = _ranker_with([fits, elsewhere, withdrawn])
    assert [m.company_id for m in ranker.rank_companies(challenge, vector, TODAY)] == ["co-fits"]
    assert ranker.rank_companies(make_challenge(city="Oulu", status="closed"), vector, TODAY) == []
    assert ranker.rank_companies(make_challenge(city="Oulu", deadline="2026-06-30"), vector, TODAY) == []
    assert ranker.rank_challenges(withdrawn, vector, TODAY) == []
