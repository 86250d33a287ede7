"""Ranking both ways: the companies for a challenge, the open challenges for a company.

A `Ranker` holds entities with their embeddings (and warms the per-entity feature cache of
`matcher.features` on every upsert). The streaming worker keeps one per shard; the
offline commands keep one for the whole data set. Both call the same methods, so offline figures are
the figures of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable, Sequence

import numpy as np

from matcher.features import challenge_features, company_features
from matcher.index import VectorIndex
from matcher.rules import challenge_is_open, company_is_active, eligible
from matcher.scoring import reasons_for, score_pairs
from schemas import Challenge, CompanyProfile

SCORE_DECIMALS = 6


@dataclass(frozen=True)
class Match:
    """One scored pair; `rank` is its position in the list it was ranked in."""

    challenge_id: str
    company_id: str
    challenge_version: int
    company_version: int
    score: float
    components: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    rank: int = 0


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


class Ranker:
    """Holds challenges and companies with their vectors and ranks one side for an entity of the other.

    `candidate_pool` bounds how many of the densest candidates are scored in full for one query; the
    pool is the whole corpus up to that size, so small and medium deployments rank exactly.
    """

    def __init__(self, dimension: int, top_k: int = 10, min_score: float = 0.0, candidate_pool: int = 2000) -> None:
        self.top_k = top_k
        self.min_score = min_score
        self.candidate_pool = candidate_pool
        self.challenges: dict[str, Challenge] = {}
        self.companies: dict[str, CompanyProfile] = {}
        self._challenge_vectors = VectorIndex(dimension)
        self._company_vectors = VectorIndex(dimension)

    # -- state -------------------------------------------------------------------------------
    def upsert_challenge(self, challenge: Challenge, vector: np.ndarray) -> None:
        challenge_features(challenge)  # computed once per version here, cached for every query
        self.challenges[challenge.challenge_id] = challenge
        self._challenge_vectors.upsert(challenge.challenge_id, vector)

    def remove_challenge(self, challenge_id: str) -> None:
        self.challenges.pop(challenge_id, None)
        self._challenge_vectors.remove(challenge_id)

    def upsert_company(self, company: CompanyProfile, vector: np.ndarray) -> None:
        company_features(company)  # computed once per version here, cached for every query
        self.companies[company.company_id] = company
        self._company_vectors.upsert(company.company_id, vector)

    def remove_company(self, company_id: str) -> None:
        self.companies.pop(company_id, None)
        self._company_vectors.remove(company_id)

    # -- ranking -----------------------------------------------------------------------------
    def rank_companies(self, challenge: Challenge, vector: np.ndarray, today: date | None = None) -> list[Match]:
        """The top companies for a challenge (empty when the challenge is closed or past its deadline)."""
        today = today or today_utc()
        if not challenge_is_open(challenge, today):
            return []
        sims = self._company_vectors.similarities(vector)
        ids = self._company_vectors.ids
        picked = self._pool(sims, ids, lambda cid: eligible(challenge, self.companies[cid], today))
        companies = [self.companies[ids[i]] for i in picked]
        return self._finish([challenge] * len(companies), companies, sims[picked], key=lambda m: m.company_id)

    def rank_challenges(self, company: CompanyProfile, vector: np.ndarray, today: date | None = None) -> list[Match]:
        """The top open challenges for a company (empty when the company is withdrawn)."""
        today = today or today_utc()
        if not company_is_active(company):
            return []
        sims = self._challenge_vectors.similarities(vector)
        ids = self._challenge_vectors.ids
        picked = self._pool(sims, ids, lambda chid: eligible(self.challenges[chid], company, today))
        challenges = [self.challenges[ids[i]] for i in picked]
        return self._finish(challenges, [company] * len(challenges), sims[picked], key=lambda m: m.challenge_id)

    def _pool(self, sims: np.ndarray, ids: Sequence[str], allowed) -> np.ndarray:
        """Rows of the eligible candidates with the highest dense similarity, at most candidate_pool."""
        n = len(ids)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        want = min(n, self.candidate_pool * 2)
        head = np.argpartition(-sims, want - 1)[:want] if want < n else np.arange(n)
        head = head[np.argsort(-sims[head], kind="stable")]
        rows = [int(i) for i in head if allowed(ids[i])][: self.candidate_pool]
        if len(rows) < self.candidate_pool and want < n:  # many ineligible near the top: look further
            rest = np.argsort(-sims, kind="stable")[want:]
            rows += [int(i) for i in rest if allowed(ids[i])][: self.candidate_pool - len(rows)]
        return np.asarray(rows, dtype=np.int64)

    def _finish(self, challenges, companies, dense: np.ndarray, key) -> list[Match]:
        if not companies:
            return []
        scored = score_pairs(challenges, companies, dense)
        scores = np.round(scored.score.astype(np.float64), SCORE_DECIMALS)
        kept = [i for i in range(len(companies)) if scores[i] >= self.min_score]
        # order as assign_ranks will (score, then the other side's id) and explain only the top k
        bare = lambda i: Match(challenges[i].challenge_id, companies[i].company_id, 0, 0, float(scores[i]))
        kept.sort(key=lambda i: (-scores[i], key(bare(i))))
        matches = []
        for i in kept[: self.top_k]:
            challenge, company = challenges[i], companies[i]
            components = {name: round(float(values[i]), SCORE_DECIMALS) for name, values in scored.components.items()}
            matches.append(
                Match(
                    challenge_id=challenge.challenge_id,
                    company_id=company.company_id,
                    challenge_version=challenge.version,
                    company_version=company.version,
                    score=float(scores[i]),
                    components=components,
                    reasons=tuple(reasons_for(challenge, company, components)),
                )
            )
        return assign_ranks(matches, self.top_k, key)


def assign_ranks(matches: Iterable[Match], top_k: int, key) -> list[Match]:
    """Order by score (ties by the other side's id, so every process agrees) and number from 1."""
    ordered = sorted(matches, key=lambda m: (-m.score, key(m)))[:top_k]
    return [Match(**{**m.__dict__, "rank": rank}) for rank, m in enumerate(ordered, start=1)]


def merge_partial_rankings(partials: Iterable[Sequence[Match]], top_k: int) -> list[Match]:
    """Merge the per-shard top lists of one challenge into its global top list."""
    return assign_ranks((m for part in partials for m in part), top_k, key=lambda m: m.company_id)
