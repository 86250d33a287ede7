"""Metrics on hand-made judgements, and the evaluation of a tiny labelled set."""

import json
import math
from pathlib import Path

import pytest

from matcher.evaluate import (
    evaluate,
    format_report,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from services.datasets import load_labelled_set
from tests.support import PROJECT_ROOT
from tests.support.factories import make_challenge, make_company

SAMPLE = PROJECT_ROOT / "sample_data"


def test_ndcg_with_graded_gains():
    judged = {"a": 3, "b": 1}
    assert ndcg_at_k(["a", "b", "x"], judged) == pytest.approx(1.0)
    swapped = (1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "a"], judged) == pytest.approx(swapped)
    assert ndcg_at_k(["x", "y"], judged) == 0.0
    assert ndcg_at_k(["a"], {}) == 0.0


def test_recall_counts_only_good_matches():
    judged = {"a": 3, "b": 2, "c": 1}
    assert recall_at_k(["a", "c"], judged) == pytest.approx(0.5)
    assert recall_at_k(["a", "b"], judged) == pytest.approx(1.0)
    assert recall_at_k(["a"], {"c": 1}) is None


def test_mrr_first_relevant():
    assert reciprocal_rank(["x", "c", "a"], {"a": 3, "c": 1}) == pytest.approx(0.5)
    assert reciprocal_rank(["x"], {"a": 3}) == 0.0


def _write_set(directory: Path) -> None:
    challenges = [
        make_challenge(
            "ch-bus",
            city="Oulu",
            title="Passenger counts on buses",
            description="Count passengers boarding every bus.",
            tags=["public transport"],
        ),
        make_challenge(
            "ch-care",
            city="Turku",
            language="fi",
            title="Kotihoidon ravitsemus",
            description="Ikäihmisten ravitsemuksen seuranta kotihoidossa.",
            tags=["kotihoito"],
        ),
    ]
    companies = [
        make_company("co-count", description="Passenger counting sensors for buses.", tags=["public transport"]),
        make_company(
            "co-count-hki", description="Passenger counters for buses and trams.", cities_of_interest=["Helsinki"]
        ),
        make_company("co-care", description="Nutrition monitoring for home care of older people.", tags=["home care"]),
        make_company("co-other", description="Accounting software for restaurants."),
    ]
    (directory / "challenges.jsonl").write_text("\n".join(c.model_dump_json() for c in challenges) + "\n")
    rows = [json.loads(c.model_dump_json()) for c in companies]
    rows[3]["languages"] = ["en", "de"]  # any ISO 639-1 working language is accepted
    (directory / "companies.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (directory / "qrels.tsv").write_text(
        "challenge_id\tcompany_id\trelevance\nch-bus\tco-count\t3\nch-care\tco-care\t2\n"
    )
    (directory / "city_excluded.tsv").write_text("challenge_id\tcompany_id\nch-bus\tco-count-hki\n")


def test_evaluate_tiny_set(tmp_path, hash_embedder):
    _write_set(tmp_path)
    report = evaluate(load_labelled_set(tmp_path), hash_embedder, baselines=True)
    assert report.hybrid.overall.challenges == 2
    assert report.hybrid.overall.ndcg == pytest.approx(1.0)
    assert report.hybrid.overall.mrr == pytest.approx(1.0)
    assert set(report.hybrid.by_language) == {"en", "fi"}
    assert report.city_excluded_in_top == 0
    assert set(report.baselines) == {"dense", "tfidf"}
    assert all(r.overall.city_excluded_in_top == 0 for r in report.baselines.values())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["hybrid"]["overall"]["ndcg@10"] == pytest.approx(1.0)
    table = format_report(report)
    assert "NDCG@10" in table and "Finnish" in table and "tfidf" in table


def test_sample_data_reaches_a_sane_floor(embedder):
    report = evaluate(load_labelled_set(SAMPLE), embedder, baselines=True)
    assert report.city_excluded_in_top == 0
    assert report.hybrid.overall.ndcg >= 0.75
    best_baseline = max(r.overall.ndcg for r in report.baselines.values())
    assert report.hybrid.overall.ndcg >= best_baseline + 0.05
