"""Offline ranking of whole data sets: what `matchmaker rank` and `eval` run, with the worker's matcher.

Reading the data from files is `services.datasets`; this module takes validated events.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from matcher.embedding import Embedder
from matcher.ranker import Match, Ranker
from matcher.text import challenge_text, company_text
from schemas import Challenge, CompanyProfile


def build_ranker(
    challenges: list[Challenge],
    companies: list[CompanyProfile],
    embedder: Embedder,
    top_k: int = 10,
    min_score: float = 0.0,
) -> tuple[Ranker, dict[str, np.ndarray]]:
    """A ranker holding every entity, and the vector of each (keyed by id)."""
    ranker = Ranker(embedder.dimension, top_k=top_k, min_score=min_score)
    vectors: dict[str, np.ndarray] = {}
    for challenge, vector in zip(challenges, embedder.encode([challenge_text(c) for c in challenges]), strict=True):
        ranker.upsert_challenge(challenge, vector)
        vectors[challenge.challenge_id] = vector
    for company, vector in zip(companies, embedder.encode([company_text(c) for c in companies]), strict=True):
        ranker.upsert_company(company, vector)
        vectors[company.company_id] = vector
    return ranker, vectors


def rank_challenges_offline(
    challenges: list[Challenge],
    companies: list[CompanyProfile],
    embedder: Embedder,
    top_k: int = 10,
    min_score: float = 0.0,
    today: date | None = None,
) -> dict[str, list[Match]]:
    """For every challenge, its ranked companies: what the worker emits with trigger `challenge`."""
    ranker, vectors = build_ranker(challenges, companies, embedder, top_k, min_score)
    return {c.challenge_id: ranker.rank_companies(c, vectors[c.challenge_id], today) for c in challenges}
