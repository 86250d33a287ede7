"""Ranking both ways: the companies for a challenge, the open challenges for a company.

A `Ranker` holds each entity as numbers only: its embedding, its sparse signal vectors and the few
attributes the rules need (version, cities, status, deadline, language). The streaming worker keeps
one per shard; the offline commands keep one for the whole data set. Both call the same methods, so
offline figures are the figures of the stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import get_args

import numpy as np

from matcher.features import N_FEATURES, Features, challenge_features, company_features, tag_key
from matcher.glossary import CONCEPTS, DOMAINS
from matcher.index import VectorIndex
from matcher.rules import challenge_is_open, company_is_active
from matcher.scoring import Side, city_reason, explain, fuse, side_of, upper_bound
from matcher.store import Columns, SparseRows
from schemas import Challenge, CompanyProfile
from schemas.events import City, Language

SCORE_DECIMALS = 6
NO_ALERT = 2.0  # the stored alert threshold of a company that is not subscribed: above every score
# the order the alert pass computes the signals in: the narrow ones first, so the bound drops most pairs
# before the widest (terms) is gathered; lexical (weight 0) only for the alerts that are sent
ALERT_SIGNAL_ORDER = ("concepts", "domains", "tags", "terms")


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
    return datetime.now(UTC).date()


class _Side:
    """One side's stored rows: vectors, the sparse signal vectors, and the attributes rules and results need.

    Row i of every part belongs to `vectors.ids[i]`; a delete moves the last row into the hole in all
    parts at once. No Python object is kept per entity.
    """

    def __init__(self, dimension: int) -> None:
        self.vectors = VectorIndex(dimension)
        self.signals = {
            "lexical": SparseRows(N_FEATURES),
            "terms": SparseRows(N_FEATURES),
            "concepts": SparseRows(len(CONCEPTS)),
            "domains": SparseRows(len(DOMAINS)),
            "tags": SparseRows(),
        }
        self.columns = Columns(
            {
                "version": np.int64,
                "cities": np.uint8,
                "any_city": np.bool_,
                "usable": np.bool_,
                "deadline": np.int64,
                "language": np.uint8,
                "alert": np.float64,  # companies: the alert threshold (NO_ALERT: not subscribed)
            }
        )

    def __len__(self) -> int:
        return len(self.vectors)

    def upsert(self, item_id: str, vector: np.ndarray, features: Features, **columns) -> None:
        self.vectors.upsert(item_id, vector)
        row = self.vectors.row_of(item_id)
        assert row is not None  # just upserted
        for name, rows in self.signals.items():
            rows.set(row, features.signal(name))
        self.columns.set(row, language=language_code(features.language), **columns)

    def remove(self, item_id: str) -> None:
        row = self.vectors.row_of(item_id)
        if row is None:
            return
        self.vectors.remove(item_id)
        for rows in self.signals.values():
            rows.move_last_to(row)
        self.columns.move_last_to(row)

    def explain_row(self, row: int) -> Side:
        tag_ids = self.signals["tags"].row(row)[0]
        return (
            LANGUAGES[int(self.columns["language"][row])],
            self.signals["concepts"].row(row),
            frozenset(tag_key(int(i)) for i in tag_ids),
            self.signals["terms"].row(row),
            {},
        )


LANGUAGES: tuple[str, ...] = get_args(Language)  # the contract's languages; a row stores its position


def language_code(language: str) -> int:
    """The stored code of a text language (always one of the contract's: declared, or detected among them)."""
    return LANGUAGES.index(language)


# the components of a match, in the order the shortlist reports them
COMPONENTS = ("dense", "lexical", "terms", "concepts", "domains", "tags", "fused")

CITIES: tuple[City, ...] = tuple(City)
ALL_CITIES = (1 << len(CITIES)) - 1


def city_bits(cities) -> int:
    """A bit per city; no city at all means all six (a company's empty cities_of_interest)."""
    bits = 0
    for city in cities:
        bits |= 1 << CITIES.index(City(city))
    return bits or ALL_CITIES


_NO_DEADLINE = date.max.toordinal()


class Ranker:
    """Holds challenges and companies with their vectors and ranks one side for an entity of the other.

    A query takes the dense similarity of every eligible stored row (one matrix-vector product, the
    rules applied as a vectorised mask), keeps the `candidate_pool` most similar (a partial sort), and
    scores those in full: every sparse signal of the pool is one gather-multiply-sum over compact
    arrays (`matcher.store`). Small and medium deployments (up to `candidate_pool` eligible rows) are
    ranked exactly.
    """

    def __init__(self, dimension: int, top_k: int = 10, min_score: float = 0.0, candidate_pool: int = 2000) -> None:
        self.top_k = top_k
        self.min_score = min_score
        self.candidate_pool = candidate_pool
        self._challenges = _Side(dimension)
        self._companies = _Side(dimension)
        self._alert_thresholds: dict[str, float] = {}  # company_id -> threshold, also for companies not stored yet

    # -- state -------------------------------------------------------------------------------
    @property
    def n_challenges(self) -> int:
        return len(self._challenges)

    @property
    def n_companies(self) -> int:
        return len(self._companies)

    def upsert_challenge(self, challenge: Challenge, vector: np.ndarray) -> None:
        self._challenges.upsert(
            challenge.challenge_id,
            vector,
            challenge_features(challenge),
            version=challenge.version,
            cities=city_bits([challenge.city]),
            any_city=False,
            usable=challenge.status == "open",
            deadline=challenge.deadline.toordinal() if challenge.deadline else _NO_DEADLINE,
        )

    def remove_challenge(self, challenge_id: str) -> None:
        self._challenges.remove(challenge_id)

    def upsert_company(self, company: CompanyProfile, vector: np.ndarray) -> None:
        self._companies.upsert(
            company.company_id,
            vector,
            company_features(company),
            version=company.version,
            cities=city_bits(company.cities_of_interest),
            any_city=not company.cities_of_interest,
            usable=company_is_active(company),
            deadline=_NO_DEADLINE,
            alert=self._alert_thresholds.get(company.company_id, NO_ALERT),
        )

    def set_alert_threshold(self, company_id: str, threshold: float | None) -> None:
        """Subscribe a company to alerts from `threshold` on (None: unsubscribe); kept across its upserts."""
        if threshold is None:
            self._alert_thresholds.pop(company_id, None)
        else:
            self._alert_thresholds[company_id] = threshold
        row = self._companies.vectors.row_of(company_id)
        if row is not None:
            self._companies.columns.set(row, alert=NO_ALERT if threshold is None else threshold)

    def alert_threshold(self, company_id: str) -> float | None:
        return self._alert_thresholds.get(company_id)

    @property
    def n_subscribed(self) -> int:
        return len(self._alert_thresholds)

    def remove_company(self, company_id: str) -> None:
        self._companies.remove(company_id)

    # -- ranking -----------------------------------------------------------------------------
    def rank_companies(self, challenge: Challenge, vector: np.ndarray, today: date | None = None) -> list[Match]:
        """The top companies for a challenge (empty when the challenge is closed or past its deadline)."""
        return self.rank_and_alert(challenge, vector, today, alerts=False)[0]

    def rank_and_alert(
        self, challenge: Challenge, vector: np.ndarray, today: date | None = None, alerts: bool = True
    ) -> tuple[list[Match], list[Match]]:
        """The top companies for a challenge, and every subscribed company whose score reaches its own
        alert threshold (whether or not it is among the top), from one dense pass and the same rules.

        The alerts are ordered by score (ties by company id), `rank` numbered from 1 among themselves.
        """
        today = today or today_utc()
        if not challenge_is_open(challenge, today):
            return [], []
        side = self._companies
        columns = side.columns
        allowed = companies_allowed(columns, challenge.city)
        features = challenge_features(challenge)
        query = side_of(features)

        def match(row: int, score: float, components: dict[str, float]) -> Match:
            company_id = side.vectors.ids[row]
            city = city_reason(challenge.city, not columns["any_city"][row])
            return Match(
                challenge.challenge_id,
                company_id,
                challenge.version,
                int(columns["version"][row]),
                score,
                components,
                tuple(explain(query, side.explain_row(row), city, components)),
            )

        sims = side.vectors.similarities(vector)
        top = self._rank(side, sims, features, allowed, match)
        if not alerts:
            return top, []
        return top, self._alerts(side, sims, features, allowed & (columns["alert"] <= 1.0), match)

    def alert_count(self, challenge: Challenge, vector: np.ndarray, today: date | None = None) -> int:
        """How many subscribed companies a challenge alerts (top ones included), without building the
        alerts: what the selection costs, and a preview of a challenge's reach."""
        if not challenge_is_open(challenge, today or today_utc()):
            return 0
        side = self._companies
        allowed = companies_allowed(side.columns, challenge.city) & (side.columns["alert"] <= 1.0)
        sims = side.vectors.similarities(vector)
        return int(self._alert_rows(side, sims, challenge_features(challenge), allowed)[0].size)

    def _alert_rows(
        self, side: _Side, sims: np.ndarray, features: Features, allowed: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The allowed rows whose score reaches their own alert threshold, and their signals, computed in
        steps: each step adds one signal and drops the rows whose upper bound (`scoring.upper_bound`) is
        already below their threshold, so most rows cost one dense similarity and a comparison."""
        rows = np.flatnonzero(allowed)
        thresholds = side.columns["alert"][rows].astype(np.float64) - 0.5 * 10.0**-SCORE_DECIMALS  # as rounded
        raw: dict[str, np.ndarray] = {"dense": sims[rows].astype(np.float64)}
        for name in ALERT_SIGNAL_ORDER:
            keep = np.flatnonzero(upper_bound(raw) >= thresholds)
            if keep.size < rows.size:
                rows, thresholds = rows[keep], thresholds[keep]
                raw = {signal: values[keep] for signal, values in raw.items()}
            raw[name] = side.signals[name].dot(features.signal(name), rows)
        fused = fuse(raw)
        keep = np.flatnonzero(np.round(fused, SCORE_DECIMALS) >= side.columns["alert"][rows])
        raw = {signal: values[keep] for signal, values in raw.items()}
        raw["fused"] = fused[keep]
        return rows[keep], raw

    def _alerts(self, side: _Side, sims: np.ndarray, features: Features, allowed: np.ndarray, match) -> list[Match]:
        """The alerts of `_alert_rows`, best first, with their components and reasons."""
        rows, raw = self._alert_rows(side, sims, features, allowed)
        if rows.size == 0:
            return []
        raw["lexical"] = side.signals["lexical"].dot(features.signal("lexical"), rows)
        scores = np.round(raw["fused"], SCORE_DECIMALS)
        ids = side.vectors.ids
        order = sorted(range(rows.size), key=lambda i: (-scores[i], ids[int(rows[i])]))
        values = {name: raw[name].tolist() for name in COMPONENTS}
        found = []
        for rank, i in enumerate(order, start=1):
            components = {name: round(values[name][i], SCORE_DECIMALS) for name in COMPONENTS}
            found.append(replace(match(int(rows[i]), float(scores[i]), components), rank=rank))
        return found

    def alert_challenges(self, company: CompanyProfile, threshold: float, today: date | None = None) -> list[Match]:
        """Every open challenge scoring at least `threshold` for a stored company, best first: what a company
        that subscribes hears of at once (challenges are few: each shard holds all of them)."""
        if company.company_id not in self._companies.vectors:
            return []
        vector = self._companies.vectors.vector(company.company_id)
        return self.rank_challenges(company, vector, today, top_k=len(self._challenges), min_score=threshold)

    def rank_challenges(
        self,
        company: CompanyProfile,
        vector: np.ndarray,
        today: date | None = None,
        top_k: int | None = None,
        min_score: float | None = None,
    ) -> list[Match]:
        """The top open challenges for a company (empty when the company is withdrawn); `top_k` and
        `min_score` default to the ranker's."""
        today = today or today_utc()
        if not company_is_active(company):
            return []
        side = self._challenges
        columns = side.columns
        allowed = challenges_allowed(columns, company, today)
        features = company_features(company)
        query = side_of(features)

        def match(row: int, score: float, components: dict[str, float]) -> Match:
            challenge_id = side.vectors.ids[row]
            city = city_reason(CITIES[int(columns["cities"][row]).bit_length() - 1], company.cities_of_interest)
            return Match(
                challenge_id,
                company.company_id,
                int(columns["version"][row]),
                company.version,
                score,
                components,
                tuple(explain(side.explain_row(row), query, city, components)),
            )

        sims = side.vectors.similarities(vector)
        return self._rank(side, sims, features, allowed, match, top_k, min_score)

    def _rank(
        self,
        side: _Side,
        sims: np.ndarray,
        features: Features,
        allowed: np.ndarray,
        match,
        top_k: int | None = None,
        min_score: float | None = None,
    ) -> list[Match]:
        top_k = self.top_k if top_k is None else top_k
        min_score = self.min_score if min_score is None else min_score
        rows = candidate_rows(sims, allowed, self.candidate_pool)
        if rows.size == 0:
            return []
        raw = {"dense": sims[rows].astype(np.float64)}
        for name, stored in side.signals.items():
            raw[name] = stored.dot(features.signal(name), rows)
        fused = fuse(raw)
        scores = np.round(fused, SCORE_DECIMALS)
        keep = np.flatnonzero(scores >= min_score)
        if keep.size > top_k:  # the k best and everything tied with the k-th; ties are broken by id below
            kth = np.partition(scores[keep], keep.size - top_k)[keep.size - top_k]
            keep = keep[scores[keep] >= kth]
        ids = side.vectors.ids
        best = sorted(keep.tolist(), key=lambda i: (-scores[i], ids[int(rows[i])]))[:top_k]
        raw["fused"] = fused
        matches = []
        for i in best:
            components = {name: round(float(values[i]), SCORE_DECIMALS) for name, values in raw.items()}
            matches.append(match(int(rows[i]), float(scores[i]), components))
        return [replace(m, rank=rank) for rank, m in enumerate(matches, start=1)]


# The rules of `matcher.rules`, over every stored row at once (the query's own side is checked with them).
def companies_allowed(columns: Columns, city) -> np.ndarray:
    """For a challenge in `city`: the company is active and the city fits its cities of interest."""
    return columns["usable"] & ((columns["cities"] & city_bits([city])) != 0)


def challenges_allowed(columns: Columns, company: CompanyProfile, today: date) -> np.ndarray:
    """For a company: the challenge is open, its deadline not past, and its city among the company's."""
    return (
        columns["usable"]
        & (columns["deadline"] >= today.toordinal())
        & ((columns["cities"] & city_bits(company.cities_of_interest)) != 0)
    )


def candidate_rows(sims: np.ndarray, allowed: np.ndarray, pool: int) -> np.ndarray:
    """Rows of the allowed candidates with the highest dense similarity, at most `pool` (unordered: a partial
    sort, O(N)); every allowed row when there are no more than `pool`."""
    eligible = np.flatnonzero(allowed)
    if eligible.size <= pool:
        return eligible
    # partition the allowed rows only: masking the others to -inf would hand introselect many equal
    # values, its slow case (10x at 100k rows with half of them excluded)
    return eligible[np.argpartition(sims[eligible], eligible.size - pool)[eligible.size - pool :]]


def assign_ranks(matches: Iterable[Match], top_k: int, key) -> list[Match]:
    """Order by score (ties by the other side's id, so every process agrees) and number from 1."""
    ordered = sorted(matches, key=lambda m: (-m.score, key(m)))[:top_k]
    return [Match(**{**m.__dict__, "rank": rank}) for rank, m in enumerate(ordered, start=1)]


def merge_partial_rankings(partials: Iterable[Sequence[Match]], top_k: int) -> list[Match]:
    """Merge the per-shard top lists of one challenge into its global top list."""
    return assign_ranks((m for part in partials for m in part), top_k, key=lambda m: m.company_id)
