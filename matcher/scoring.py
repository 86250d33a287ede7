"""Pair scores: the signals for (challenge, company) pairs and their fusion into one score in [0, 1].

Signals (each in [0, 1], each a function of the two entities only):

- ``dense``: cosine of the two embeddings (the model reads `challenge_text`/`company_text`, which carry
  the English glossary concepts of the text, so Finnish and Swedish texts are comparable with English);
- ``lexical``: cosine of hashed character n-gram signatures with a frozen IDF (see `matcher.features`);
- ``terms``: cosine of the language bridge's term bags (`matcher.bridge`: lemmas and compound parts of
  Finnish and Swedish words, English glosses from FreeDict), so inflected and compounded words meet
  their lemma in the same language and their English gloss across languages;
- ``concepts``: weighted cosine of the themes (`matcher.glossary_data`, from the Six City Strategy and
  EuroVoc) the two texts name, language-independent;
- ``domains``: the same over the themes' broad domains (mobility, education and culture, ...), a weak prior;
- ``tags``: overlap of the tags after normalising them to glossary concepts (near-synonyms and
  translations become one key).

Fusion is a fixed weighted sum of *calibrated* signals, never a rank fusion: a pair's score depends on
the pair alone, so it means the same in every list, `min_score` is meaningful, and shard partial lists
merge into exactly the single-process ranking. Calibration maps each raw signal linearly from the
value typical of an unrelated pair (-> 0) to the value typical of a clearly matching pair (-> 1),
clipped; the anchors below were read off the distribution of raw values of labelled relevant and
non-relevant pairs, and the weights chosen by a coarse grid on half A of the development set only
(docs/ranking.md gives the split), preferring round numbers and a low weight on the noisiest signal
(tags). On half A `terms` separates relevant from other pairs better than `lexical` in every language
pairing (AUC 0.98 against 0.51 across languages, 0.94 against 0.87 English-English), and replacing
`lexical` by `terms` in the fusion was the best setting there; `lexical` is still computed and reported
in the components (weight 0). Half A has only six challenges and the grid was flat within ~0.01 NDCG@10,
so the weights are a reasoned choice more than a fitted optimum. The weights of the theme-fed signals
(concepts, tags, domains) were re-chosen on half A when the glossary was replaced by the theme taxonomy:
low weights (concepts 0-0.1, tags and domains 0-0.1) were best there, 0.3 on concepts clearly worse.
The score is the weighted mean, so in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matcher.features import SPARSE_SIGNALS, Features, challenge_features, company_features, shared_concepts
from matcher.language import LANGUAGE_NAMES
from matcher.rules import city_fits
from matcher.store import SparseVector, sparse_dot
from schemas import Challenge, CompanyProfile


@dataclass(frozen=True)
class Calibration:
    """Raw value of an unrelated pair (maps to 0) and of a clear match (maps to 1)."""

    low: float
    high: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.clip((raw - self.low) / (self.high - self.low), 0.0, 1.0)


@dataclass(frozen=True)
class ScoringConfig:
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "dense": 0.35,
            "lexical": 0.0,
            "terms": 0.3,
            "concepts": 0.1,
            "domains": 0.05,
            "tags": 0.05,
        }
    )
    calibration: dict[str, Calibration] = field(
        default_factory=lambda: {
            "dense": Calibration(0.15, 0.70),
            "lexical": Calibration(0.02, 0.30),
            "terms": Calibration(0.02, 0.45),
            "concepts": Calibration(0.05, 0.60),
            "domains": Calibration(0.30, 0.95),
            "tags": Calibration(0.0, 0.50),
        }
    )


CONFIG = ScoringConfig()
SIGNALS = ("dense", "lexical", "terms", "concepts", "domains", "tags")


@dataclass(frozen=True)
class PairScores:
    """Scores of n aligned (challenge, company) pairs."""

    score: np.ndarray  # shape (n,), in [0, 1]
    components: dict[str, np.ndarray]  # signal name -> shape (n,)


def _features(items: Sequence, build) -> list[Features]:
    """Features of each item, looked up once per distinct object (a query repeats one side n times)."""
    seen: dict[int, Features] = {}
    out: list[Features] = []
    for item in items:
        found = seen.get(id(item))
        if found is None:
            found = seen[id(item)] = build(item)
        out.append(found)
    return out


def raw_signals(
    challenges: Sequence[Challenge], companies: Sequence[CompanyProfile], dense: np.ndarray
) -> dict[str, np.ndarray]:
    """The uncalibrated signals of aligned pairs, pair by pair (the `Ranker` computes the same products
    for one query against many stored rows at once)."""
    left = _features(challenges, challenge_features)
    right = _features(companies, company_features)
    n = len(left)

    def each(name: str) -> np.ndarray:
        return np.fromiter(
            (sparse_dot(a.signal(name), b.signal(name)) for a, b in zip(left, right, strict=True)), np.float64, n
        )

    return {"dense": np.asarray(dense, dtype=np.float64), **{name: each(name) for name in SPARSE_SIGNALS}}


def fuse(raw: dict[str, np.ndarray], config: ScoringConfig = CONFIG) -> np.ndarray:
    """Weighted mean of the calibrated signals: in [0, 1], a function of each pair alone."""
    total = sum(config.weights.values())
    score = sum(w * config.calibration[name](raw[name]) for name, w in config.weights.items() if w)
    return np.clip(np.asarray(score, dtype=np.float64) / total, 0.0, 1.0)


def upper_bound(raw: dict[str, np.ndarray], config: ScoringConfig = CONFIG) -> np.ndarray:
    """The highest score the pairs can still reach when only the signals in `raw` are known: every
    signal not yet computed counts at its maximum (1). `fuse` of the full signals never exceeds it, so
    pairs below a threshold are dropped before their costlier signals are computed."""
    total = sum(config.weights.values())
    score = sum(
        w * (config.calibration[name](raw[name]) if name in raw else 1.0) for name, w in config.weights.items() if w
    )
    return np.clip(np.asarray(score, dtype=np.float64) / total, 0.0, 1.0)


def score_pairs(
    challenges: Sequence[Challenge],
    companies: Sequence[CompanyProfile],
    dense: np.ndarray,
    config: ScoringConfig | None = None,
) -> PairScores:
    """Score aligned pairs; `dense` holds the cosine similarity of each pair's embeddings."""
    config = config or CONFIG
    raw = raw_signals(challenges, companies, dense)
    score = fuse(raw, config)
    components = {name: raw[name] for name in SIGNALS}
    components["fused"] = score
    return PairScores(score=score, components=components)


def reasons_for(challenge: Challenge, company: CompanyProfile, components: dict[str, float]) -> list[str]:
    """One to three short reasons a person understands: shared concepts/tags, language bridge, city fit."""
    left, right = challenge_features(challenge), company_features(company)
    city = city_reason(challenge.city, company.cities_of_interest) if city_fits(challenge, company) else None
    return explain(side_of(left), side_of(right), city, components)


# language, concept vector, tag keys, term vector, term bucket -> words (empty for a stored row: the
# Ranker keeps no Python object per row, so only the query side can name its own words)
Side = tuple[str, SparseVector, frozenset[str], SparseVector, dict[int, str]]
BRIDGE_WORDS = 3


def side_of(features: Features) -> Side:
    """What the reasons need of one side."""
    return features.language, features.concept_vector, features.tag_keys, features.terms, features.term_words


def bridged_words(challenge: Side, company: Side) -> str | None:
    """The words that bridged a pair of different languages, strongest first ("jätehuolto → garbage waste").

    Named from the non-English side's words when that side is at hand, else from the English side's."""
    left, right = challenge[3], company[3]
    common, ia, ib = np.intersect1d(left[0], right[0], assume_unique=True, return_indices=True)
    if common.size == 0:
        return None
    order = np.argsort(-(left[1][ia] * right[1][ib]), kind="stable")
    english_first = sorted((challenge, company), key=lambda side: side[0] == "en")
    for side in english_first:
        words = side[4]
        found = list(dict.fromkeys(words[int(common[j])] for j in order if int(common[j]) in words))
        if side[0] != "en":
            found = [w for w in found if "→" in w]
        if found:
            return ", ".join(found[:BRIDGE_WORDS])
    return None


def city_reason(city, cities_of_interest) -> str:
    """The city-fit reason ("works in Oulu"); `city` is a `City` or its name."""
    return f"works in {getattr(city, 'value', city)}" if cities_of_interest else "works in all six cities"


def explain(challenge: Side, company: Side, city: str | None, components: dict[str, float]) -> list[str]:
    """The reasons of one pair from its two sides' language, concepts and tags, and its city fit."""
    (left_language, left_concepts, left_tags, *_), (right_language, right_concepts, right_tags, *_) = challenge, company
    reasons: list[str] = []
    shared = shared_concepts(left_concepts, right_concepts)
    if shared:
        reasons.append("shared concepts: " + ", ".join(shared[:3]))
    else:
        tags = sorted(left_tags & right_tags)
        named = [t.split(":", 1)[1] for t in tags if t.startswith("tag:")]
        if named:
            reasons.append("shared tags: " + ", ".join(named[:3]))
        else:
            reasons.append(f"similar description (semantic {components.get('dense', 0.0):.2f})")
    if left_language != right_language:
        bridge = (
            f"bridged {LANGUAGE_NAMES.get(left_language, left_language)} → "
            f"{LANGUAGE_NAMES.get(right_language, right_language)}"
        )
        words = bridged_words(challenge, company)
        reasons.append(f"{bridge}: {words}" if words else bridge)
    if city:
        reasons.append(city)
    return reasons[:3]
