"""The compact row stores behind the Ranker: sparse rows, and a Ranker after many upserts and deletes."""

from datetime import date

import numpy as np
import pytest

from matcher import Ranker, scoring
from matcher.store import MAPPED_FROM, Columns, SparseRows, class_width, sparse_dot, sparse_vector
from tests.support.factories import make_challenge, make_company

TODAY = date(2027, 1, 1)


def _random_sparse(rng, dimension=50, most=12):
    n = int(rng.integers(0, most + 1))
    indices = rng.choice(dimension, size=n, replace=False)
    return sparse_vector(indices, rng.random(n))


def test_sparse_rows_dot_equals_pairwise_dot_after_overwrites_growth_and_deletes():
    rng = np.random.default_rng(3)
    rows = SparseRows(capacity=2)  # forces capacity growth (rows and blocks)
    kept: list = []
    for step in range(300):
        action = rng.random()
        if kept and action < 0.25:  # delete a random row: the last row moves into it
            row = int(rng.integers(len(kept)))
            rows.move_last_to(row)
            kept[row] = kept[-1]
            kept.pop()
        elif kept and action < 0.5:  # overwrite in place
            row = int(rng.integers(len(kept)))
            kept[row] = _random_sparse(rng, most=40 if step == 150 else 12)
            rows.set(row, kept[row])
        else:
            kept.append(_random_sparse(rng))
            rows.set(len(kept) - 1, kept[-1])
    assert len(rows) == len(kept)
    query = _random_sparse(rng, most=30)
    got = rows.dot(query)
    want = [sparse_dot(query, v) for v in kept]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    subset = np.array([len(kept) - 1, 0])
    np.testing.assert_allclose(rows.dot(query, subset), [want[-1], want[0]], rtol=1e-6, atol=1e-7)
    for i, v in enumerate(kept):
        np.testing.assert_array_equal(rows.row(i)[0], v[0])


def test_dot_over_rows_of_every_length_equals_the_pairwise_products():
    rng = np.random.default_rng(5)
    rows = SparseRows(dimension=400)
    stored = []
    for i in range(200):  # lengths 0..300: rows of many width classes in one call
        n = int(rng.integers(0, 301)) if i % 3 else int(rng.integers(0, 20))
        stored.append(sparse_vector(rng.choice(400, size=n, replace=False), rng.random(n)))
        rows.set(i, stored[-1])
    query = sparse_vector(rng.choice(400, size=120, replace=False), rng.random(120))
    some = np.sort(rng.choice(200, size=150, replace=False))
    want = [sparse_dot(query, stored[i]) for i in some]
    np.testing.assert_allclose(rows.dot(query, some), want, rtol=1e-6, atol=1e-7)
    assert rows.dot(query, np.array([], dtype=np.int64)).shape == (0,)


def _dense(vectors, dimension):
    """The reference: every row as a dense float32 row."""
    matrix = np.zeros((len(vectors), dimension), dtype=np.float32)
    for i, (indices, values) in enumerate(vectors):
        matrix[i, indices] = values
    return matrix


def test_rows_of_very_different_lengths_under_churn_equal_a_dense_reference():
    rng = np.random.default_rng(11)
    dimension = 1000
    rows = SparseRows(dimension=dimension, capacity=4)
    kept: list = []

    def vector():  # short and long rows, so overwrites move rows between width classes
        n = int(rng.choice([0, 1, 3, 5, 17, 33, 90, 128, 250, 305, 400]))
        return sparse_vector(rng.choice(dimension, size=n, replace=False), rng.random(n))

    for _ in range(1500):
        action = rng.random()
        if kept and action < 0.3:
            row = int(rng.integers(len(kept)))
            rows.move_last_to(row)
            kept[row] = kept[-1]
            kept.pop()
        elif kept and action < 0.6:
            row = int(rng.integers(len(kept)))
            kept[row] = vector()
            rows.set(row, kept[row])
        else:
            kept.append(vector())
            rows.set(len(kept) - 1, kept[-1])
    assert len(rows) == len(kept) > 100
    for i, (indices, values) in enumerate(kept):
        got = rows.row(i)
        np.testing.assert_array_equal(got[0], indices)
        np.testing.assert_array_equal(got[1], values)
    dense = _dense(kept, dimension)
    for q_len in (1, 40, 300):
        query = sparse_vector(rng.choice(dimension, size=q_len, replace=False), rng.random(q_len))
        q = _dense([query], dimension)[0]
        want = (dense * q).sum(axis=1, dtype=np.float64)  # float32 products, float64 sums
        np.testing.assert_allclose(rows.dot(query), want, rtol=1e-12, atol=1e-12)
        some = rng.permutation(len(kept))[: len(kept) // 2]  # any order, any subset
        np.testing.assert_allclose(rows.dot(query, some), want[some], rtol=1e-12, atol=1e-12)


def test_memory_follows_the_entries_stored_not_the_longest_row():
    rows = SparseRows(dimension=1000)
    short = sparse_vector(np.arange(4), np.ones(4))
    for i in range(1000):
        rows.set(i, short)
    rows.set(1000, sparse_vector(np.arange(300), np.ones(300)))
    entries = 1000 * 4 + 300
    assert rows.bytes_in_use < 1.3 * entries * 8 + len(rows) * 16  # padded to 300: ~2.4 MB
    for i in range(1000):  # every short row grows: its old slots are released, the block stays dense
        rows.set(i, sparse_vector(np.arange(100), np.ones(100)))
    assert rows.bytes_in_use < 1.3 * (1000 * 100 + 300) * 8 + len(rows) * 16


def test_blocks_grown_past_the_mapped_size_keep_their_rows():
    rng = np.random.default_rng(13)
    rows = SparseRows(dimension=2000)
    kept = [sparse_vector(rng.choice(2000, size=150, replace=False), rng.random(150)) for _ in range(3000)]
    for i, v in enumerate(kept):  # one class of 160 entries: its blocks pass MAPPED_FROM (1 MiB) as they double
        rows.set(i, v)
    for i in range(0, 2500, 7):  # delete from the middle of the mapped block
        rows.move_last_to(i)
        kept[i] = kept[-1]
        kept.pop()
    query = sparse_vector(rng.choice(2000, size=200, replace=False), rng.random(200))
    want = (_dense(kept, 2000) * _dense([query], 2000)[0]).sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(rows.dot(query), want, rtol=1e-12, atol=1e-12)
    assert rows.nbytes > 2 * MAPPED_FROM


def test_class_width_holds_the_row_with_padding_under_a_quarter():
    for n in range(0, 2000):
        width = class_width(n)
        assert n <= width and (width - n) <= max(3, width // 4)


def test_sparse_rows_accept_indices_beyond_any_declared_dimension():
    rows = SparseRows()
    rows.set(0, sparse_vector([5], [1.0]))
    rows.set(1, sparse_vector([70_000], [0.5]))
    assert rows.dot(sparse_vector([70_000, 9], [2.0, 1.0])).tolist() == [0.0, 1.0]
    assert rows.dot(sparse_vector([5], [1.0])).tolist() == [1.0, 0.0]  # the scratch was cleared


def test_columns_follow_swap_delete():
    columns = Columns({"version": np.int64})
    for i in range(3):
        columns.set(i, version=i + 10)
    columns.move_last_to(0)
    assert columns["version"].tolist() == [12, 11]


TOPICS = [
    "electric bus charging depots",
    "home care nutrition monitoring",
    "reading assessment for pupils",
    "heat pump demand response",
    "light art for dark squares",
    "passenger counting sensors on trams",
]


def _company(i: int, version: int = 1):
    cities = [[], ["Helsinki"], ["Oulu"], ["Helsinki", "Espoo"]][i % 4]
    return make_company(
        f"co-{i:03d}",
        version=version,
        description=f"We build {TOPICS[i % 6]} ({i}).",
        tags=[TOPICS[(i + version) % 6].split()[0]],
        cities_of_interest=cities,
        status="withdrawn" if i % 11 == 5 else "active",
    )


def _unit(rng, d=8):
    v = rng.normal(size=d).astype(np.float32)
    return v / np.linalg.norm(v)


def test_ranker_after_churn_ranks_like_a_fresh_ranker_holding_the_final_state():
    rng = np.random.default_rng(5)
    churned = Ranker(8, top_k=50)
    final: dict = {}
    for step in range(400):
        i = int(rng.integers(60))
        if rng.random() < 0.3:
            churned.remove_company(f"co-{i:03d}")
            final.pop(f"co-{i:03d}", None)
        else:
            company, vector = _company(i, version=step + 1), _unit(rng)
            churned.upsert_company(company, vector)
            final[company.company_id] = (company, vector)
    fresh = Ranker(8, top_k=50)
    for company, vector in final.values():
        fresh.upsert_company(company, vector)
    assert churned.n_companies == fresh.n_companies == len(final)
    for city in ("Helsinki", "Oulu", "Turku"):
        challenge = make_challenge(f"ch-{city}", city=city, description="Charging depots for electric buses.")
        query = _unit(rng)
        assert churned.rank_companies(challenge, query, TODAY) == fresh.rank_companies(challenge, query, TODAY)


def test_ranker_scores_equal_pairwise_scoring_and_rules_hold_with_a_small_pool():
    rng = np.random.default_rng(9)
    companies = [_company(i) for i in range(40)]
    vectors = {c.company_id: _unit(rng) for c in companies}
    challenge, query = make_challenge(city="Oulu", description="Home care nutrition for older people."), _unit(rng)
    ranker = Ranker(8, top_k=40, candidate_pool=5)
    for c in companies:
        ranker.upsert_company(c, vectors[c.company_id])
    ranked = ranker.rank_companies(challenge, query, TODAY)
    assert len(ranked) == 5  # the pool bounds what is scored in full
    by_id = {c.company_id: c for c in companies}
    for match in ranked:
        company = by_id[match.company_id]
        assert company.status == "active" and (not company.cities_of_interest or "Oulu" in company.cities_of_interest)
        pair = scoring.score_pairs([challenge], [company], np.array([float(query @ vectors[company.company_id])]))
        assert match.score == pytest.approx(float(pair.score[0]), abs=2e-6)
        assert match.reasons[-1] in ("works in Oulu", "works in all six cities")
    eligible = [
        c for c in companies if c.status == "active" and (not c.cities_of_interest or "Oulu" in c.cities_of_interest)
    ]
    best_dense = sorted(eligible, key=lambda c: -float(query @ vectors[c.company_id]))[:5]
    assert {m.company_id for m in ranked} == {c.company_id for c in best_dense}


def test_rank_challenges_respects_deadline_status_and_cities():
    rng = np.random.default_rng(2)
    ranker = Ranker(8)
    open_oulu = make_challenge("ch-oulu", city="Oulu", description="Buses.")
    open_turku = make_challenge("ch-turku", city="Turku", description="Buses.")
    past = make_challenge("ch-past", city="Oulu", description="Buses.", deadline="2026-12-31")
    for c in (open_oulu, open_turku, past):
        ranker.upsert_challenge(c, _unit(rng))
    company = make_company("co-o", description="Buses.", cities_of_interest=["Oulu"])
    ranked = ranker.rank_challenges(company, _unit(rng), TODAY)
    assert [m.challenge_id for m in ranked] == ["ch-oulu"]
    assert "works in Oulu" in ranked[0].reasons
