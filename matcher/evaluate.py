"""Offline evaluation of the ranker on a labelled set: `matchmaker eval DIR [--baselines] [--json]`.

A `LabelledSet` is challenges, companies, graded judgements (challenge id -> company id -> relevance,
1 partial to 3 excellent; pairs not listed are not relevant) and the city-excluded pairs that must
never appear in a top list. This module takes them as objects; reading them from a directory
(``challenges.jsonl``, ``companies.jsonl``, ``qrels.tsv``, ``city_excluded.tsv``) is
`services.datasets.load_labelled_set`.

Metrics, over the top 10 companies of every challenge:

- NDCG@10 with graded (exponential) gains: gain = 2**relevance - 1, discount 1/log2(rank + 1),
  normalised by the ideal ordering of all judged companies of the challenge (the usual TREC form; the
  reference figures quoted with the dev set use it);
- Recall@10 of the companies with relevance >= 2;
- MRR: reciprocal rank of the first company with relevance >= 1 (0 when none is ranked);
- the number of city-excluded pairs that reached a top 10 (must be 0).

Each is averaged over the challenges that have judgements (Recall over those with a relevance >= 2
company), overall and per challenge language (the `language` field, else guessed from the text).

The hybrid figures come from `rank_challenges_offline`, the production `Ranker` path. With
``baselines=True`` the same run also ranks with the dense cosine alone (the embedder on the plain
texts) and with a character n-gram TF-IDF cosine fitted on the set's own texts, both with the
eligibility rules applied, so the hybrid is compared with its parts on identical data.

Deadlines: an evaluation measures matching quality, not the calendar, so unless `today` is given the
ranking is made as of ``date.min`` (no deadline has passed). Closed challenges rank nothing by rule,
so they are left out of the averages (and listed in the report) rather than counted as failures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from matcher.embedding import Embedder
from matcher.language import LANGUAGE_NAMES, detect_language
from matcher.offline import rank_challenges_offline
from matcher.rules import challenge_is_open, eligible
from schemas import Challenge, CompanyProfile

K = 10


@dataclass(frozen=True)
class LabelledSet:
    """What an evaluation reads: the events and their judgements. `name` labels the report."""

    name: str
    challenges: Sequence[Challenge]
    companies: Sequence[CompanyProfile]
    qrels: Mapping[str, Mapping[str, int]]
    city_excluded: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()


@dataclass
class Metrics:
    """Averages over the challenges that have judgements."""

    ndcg: float = 0.0
    recall: float = 0.0
    mrr: float = 0.0
    challenges: int = 0
    city_excluded_in_top: int = 0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "ndcg@10": round(self.ndcg, 4),
            "recall@10": round(self.recall, 4),
            "mrr": round(self.mrr, 4),
            "challenges": self.challenges,
            "city_excluded_in_top10": self.city_excluded_in_top,
        }


@dataclass
class SystemResult:
    """One ranker's figures: overall and per challenge language."""

    name: str
    overall: Metrics
    by_language: dict[str, Metrics] = field(default_factory=dict)
    per_challenge: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.to_dict(),
            "by_language": {lang: m.to_dict() for lang, m in self.by_language.items()},
            "per_challenge": self.per_challenge,
        }


@dataclass
class Report:
    directory: str  # the set's name: its directory for `matchmaker eval` (kept as the JSON key)
    model: str
    challenges: int
    companies: int
    judged_pairs: int
    hybrid: SystemResult
    skipped_closed: list[str] = field(default_factory=list)
    baselines: dict[str, SystemResult] = field(default_factory=dict)

    @property
    def city_excluded_in_top(self) -> int:
        return self.hybrid.overall.city_excluded_in_top

    def to_dict(self) -> dict[str, object]:
        return {
            "directory": self.directory,
            "model": self.model,
            "challenges": self.challenges,
            "companies": self.companies,
            "judged_pairs": self.judged_pairs,
            "skipped_closed": self.skipped_closed,
            "k": K,
            "hybrid": self.hybrid.to_dict(),
            "baselines": {name: result.to_dict() for name, result in self.baselines.items()},
        }


# -- metrics ---------------------------------------------------------------------------------------
def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of graded relevances in rank order (exponential gain)."""
    return sum((2.0**g - 1.0) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = K) -> float:
    ideal = dcg(sorted(judged.values(), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([judged.get(item, 0) for item in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int = K, min_relevance: int = 2) -> float | None:
    wanted = {item for item, rel in judged.items() if rel >= min_relevance}
    if not wanted:
        return None
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[str], judged: Mapping[str, int], min_relevance: int = 1) -> float:
    for position, item in enumerate(ranked, start=1):
        if judged.get(item, 0) >= min_relevance:
            return 1.0 / position
    return 0.0


def score_rankings(
    name: str,
    rankings: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    languages: Mapping[str, str],
    excluded: set[tuple[str, str]],
) -> SystemResult:
    """Metrics of full rankings (challenge id -> company ids, best first)."""
    per_challenge: dict[str, dict[str, float]] = {}
    groups: dict[str, list[str]] = {}
    violations: dict[str, int] = {}
    for challenge_id, ranked in rankings.items():
        lang = languages.get(challenge_id, "en")
        violations[lang] = violations.get(lang, 0) + sum(
            1 for company_id in ranked[:K] if (challenge_id, company_id) in excluded
        )
        judged = qrels.get(challenge_id)
        if not judged:
            continue
        row = {"ndcg@10": ndcg_at_k(ranked, judged), "mrr": reciprocal_rank(ranked, judged)}
        recall = recall_at_k(ranked, judged)
        if recall is not None:
            row["recall@10"] = recall
        per_challenge[challenge_id] = {key: round(value, 4) for key, value in row.items()}
        groups.setdefault(lang, []).append(challenge_id)

    def average(ids: list[str], langs: list[str]) -> Metrics:
        rows = [per_challenge[i] for i in ids]
        recalls = [r["recall@10"] for r in rows if "recall@10" in r]
        return Metrics(
            ndcg=float(np.mean([r["ndcg@10"] for r in rows])) if rows else 0.0,
            recall=float(np.mean(recalls)) if recalls else 0.0,
            mrr=float(np.mean([r["mrr"] for r in rows])) if rows else 0.0,
            challenges=len(rows),
            city_excluded_in_top=sum(violations.get(lang, 0) for lang in langs),
        )

    overall = average(list(per_challenge), list(violations))
    by_language = {lang: average(groups.get(lang, []), [lang]) for lang in sorted(set(groups) | set(violations))}
    return SystemResult(name, overall, by_language, per_challenge)


# -- baselines -------------------------------------------------------------------------------------
def _rank_by_matrix(
    challenges: Sequence[Challenge],
    companies: Sequence[CompanyProfile],
    similarity: np.ndarray,
    today: date,
) -> dict[str, list[str]]:
    """Full rankings from a (challenges x companies) similarity matrix, eligibility rules applied."""
    rankings: dict[str, list[str]] = {}
    for i, challenge in enumerate(challenges):
        rows = [j for j, company in enumerate(companies) if eligible(challenge, company, today)]
        rows.sort(key=lambda j: (-similarity[i, j], companies[j].company_id))
        rankings[challenge.challenge_id] = [companies[j].company_id for j in rows]
    return rankings


def plain_challenge_text(challenge: Challenge) -> str:
    """The text as written (no glossary concepts): what a plain baseline reads."""
    return " ".join([challenge.title + ".", challenge.description, ", ".join(challenge.tags)])


def plain_company_text(company: CompanyProfile) -> str:
    return " ".join([company.description, "; ".join(company.offerings), ", ".join(company.tags)])


def dense_baseline(challenges, companies, embedder: Embedder, today: date) -> dict[str, list[str]]:
    left = embedder.encode([plain_challenge_text(c) for c in challenges])
    right = embedder.encode([plain_company_text(c) for c in companies])
    return _rank_by_matrix(challenges, companies, left @ right.T, today)


def tfidf_baseline(challenges, companies, today: date) -> dict[str, list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [plain_challenge_text(c) for c in challenges] + [plain_company_text(c) for c in companies]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    similarity = (matrix[: len(challenges)] @ matrix[len(challenges) :].T).toarray()
    return _rank_by_matrix(challenges, companies, similarity, today)


# -- the front door --------------------------------------------------------------------------------
def evaluate(
    data: LabelledSet,
    embedder: Embedder,
    baselines: bool = False,
    today: date | None = None,
    extra_systems: Mapping[str, Callable[[list[Challenge], list[CompanyProfile]], dict[str, list[str]]]] | None = None,
) -> Report:
    """Rank every challenge of the set with the production path and score it against the judgements."""
    challenges, companies = list(data.challenges), list(data.companies)
    qrels, excluded = data.qrels, set(data.city_excluded)
    as_of = today or date.min
    languages = {c.challenge_id: c.language or detect_language(c.title + " " + c.description) for c in challenges}

    closed = sorted(c.challenge_id for c in challenges if not challenge_is_open(c, as_of))
    scored = [c for c in challenges if c.challenge_id not in set(closed)]

    ranked = rank_challenges_offline(scored, companies, embedder, top_k=max(K, len(companies)), today=as_of)
    hybrid_rankings = {cid: [m.company_id for m in matches] for cid, matches in ranked.items()}
    report = Report(
        directory=data.name,
        model=getattr(embedder, "name", type(embedder).__name__),
        challenges=len(challenges),
        companies=len(companies),
        judged_pairs=sum(len(v) for v in qrels.values()),
        skipped_closed=closed,
        hybrid=score_rankings("hybrid", hybrid_rankings, qrels, languages, excluded),
    )
    if baselines:
        report.baselines["dense"] = score_rankings(
            "dense", dense_baseline(scored, companies, embedder, as_of), qrels, languages, excluded
        )
        report.baselines["tfidf"] = score_rankings(
            "tfidf", tfidf_baseline(scored, companies, as_of), qrels, languages, excluded
        )
    for name, system in (extra_systems or {}).items():
        report.baselines[name] = score_rankings(name, system(scored, companies), qrels, languages, excluded)
    return report


def format_report(report: Report) -> str:
    """A plain-text table: one row per system and language slice."""
    systems = [report.hybrid, *report.baselines.values()]
    header = f"{'system':<10} {'slice':<12} {'n':>3} {'NDCG@10':>8} {'R@10':>6} {'MRR':>6} {'city-excl':>9}"
    lines = [
        f"Evaluation of {report.directory} (model {report.model}): {report.challenges} challenges, "
        f"{report.companies} companies, {report.judged_pairs} judged pairs; top {K}.",
        header,
        "-" * len(header),
    ]
    for system in systems:
        slices = [("all", system.overall)] + [
            (LANGUAGE_NAMES.get(lang, lang), metrics) for lang, metrics in system.by_language.items()
        ]
        for label, metrics in slices:
            lines.append(
                f"{system.name:<10} {label:<12} {metrics.challenges:>3} {metrics.ndcg:>8.3f} {metrics.recall:>6.3f} "
                f"{metrics.mrr:>6.3f} {metrics.city_excluded_in_top:>9d}"
            )
    if report.baselines:
        best = max(system.overall.ndcg for system in report.baselines.values())
        lines.append(f"hybrid minus best baseline NDCG@10: {report.hybrid.overall.ndcg - best:+.3f}")
    lines.append(f"city-excluded pairs in any hybrid top {K}: {report.city_excluded_in_top}")
    if report.skipped_closed:
        lines.append(f"not scored (closed, so nothing is ranked for them): {', '.join(report.skipped_closed)}")
    return "\n".join(lines)


__all__ = [
    "LabelledSet",
    "Metrics",
    "Report",
    "SystemResult",
    "evaluate",
    "format_report",
    "ndcg_at_k",
    "recall_at_k",
    "reciprocal_rank",
]
