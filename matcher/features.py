"""Per-entity features for the non-dense signals, computed once per entity version and cached.

For every challenge and company profile the matcher derives, from its text alone:

- `language`: the language the text is written in (the challenge's field, else guessed);
- `concepts`: glossary concepts with their salience (specificity x damped mention count), and the
  same folded onto the concepts' domains;
- `tag_keys`: the tags normalised to glossary concepts (so "ev charging" and "sähköautojen lataus" are
  one key), or to a stemmed form when the glossary does not know the tag;
- `lexical`: a character n-gram signature of the content words (the `LEXICAL_TERMS` heaviest n-grams);
- `terms`: the language bridge's term bag (`matcher.bridge`: lemmas, compound parts and English glosses),
  hashed into the same 2**20 buckets with a stable hash, damped, weighted by an IDF frozen from the same
  background corpus and L2-normalised; `term_words` keeps, per bucket, the words that made it (reasons).

The lexical signal must work on a stream where documents arrive one at a time, and a pair's score must
be the same in every worker process. So the vocabulary is *stateless* and the weighting *frozen*:

- `HashingVectorizer` (char n-grams of 3-5 inside word boundaries, 2**20 buckets, no sign flipping)
  needs no fitted vocabulary: any text maps to the same vector in every process, at any time;
- the IDF is not learned from the live documents (that would drift with every event and differ between
  shards) but frozen: computed once per process from a small background corpus shipped in the project
  (`matcher.background`, generic texts of city calls and company profiles in the three languages),
  so n-grams of boilerplate ("the city", "ratkaisu", "tjänst") weigh little and domain n-grams much;
- function words of Finnish, Swedish and English are dropped before hashing, and term counts are
  damped (1 + log tf), then the vector is L2-normalised, so the lexical score is a cosine in [0, 1];
- only the `LEXICAL_TERMS` (64) heaviest n-grams are kept, renormalised: a ~130-word profile has
  ~1,200 distinct n-grams, most of them weak. Since the `terms` signal took its weight in the fusion,
  `lexical` only explains (it is reported with each match), so the signature keeps what says most
  for half the memory of the earlier 128 (about 50 MB less at 100,000 companies); when it still
  carried weight, 128 terms ranked as well as all of them (`matchmaker eval`, NDCG@10: dev 0.919 ->
  0.917, sample 0.909 -> 0.938) and 64 as well as 128 within noise.

A changed background corpus changes every lexical score: treat it like a model version (all workers
must run the same code). Features are cached in an LRU keyed by (kind, id, version, text digest), so
a query scores its candidates without recomputing anything but the pair products. Every signal is also
kept as a short sparse vector (`matcher.store`), the form the `Ranker` stores per row.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from matcher.bridge import terms
from matcher.glossary import CONCEPTS, DOMAINS, concept_counts, salience, tag_concepts
from matcher.language import STOPWORDS, detect_language, tokens
from matcher.store import SparseVector, sparse_vector
from schemas import Challenge, CompanyProfile

N_FEATURES = 2**20
NGRAMS = (3, 5)
MIN_TAG_CONCEPT_WEIGHT = 0.5
LEXICAL_TERMS = 64
SPARSE_SIGNALS = ("lexical", "terms", "concepts", "domains", "tags")  # the signals kept as sparse vectors
CACHE_SIZE = 4096  # queries and recent upserts; stored entities keep their vectors in the Ranker

_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
_HASHER = HashingVectorizer(
    analyzer="char_wb", ngram_range=NGRAMS, n_features=N_FEATURES, alternate_sign=False, norm=None, lowercase=False
)
_DOMAIN_INDEX = {d: i for i, d in enumerate(DOMAINS)}


def content_text(text: str) -> str:
    """Lower-cased content words: function words of the three languages and pure numbers dropped."""
    return " ".join(t for t in tokens(text) if t not in _ALL_STOPWORDS and not t.isdigit() and len(t) > 1)


def _raw_counts(texts: list[str]) -> sp.csr_matrix:
    return _HASHER.transform([content_text(t) for t in texts]).tocsr()


@lru_cache(maxsize=1)
def frozen_idf() -> np.ndarray:
    """Smoothed IDF of every hash bucket over the shipped background corpus (unseen buckets: maximum).

    Computed on first use, not at import, so importing the matcher costs no corpus pass (a few hundred ms).
    """
    from matcher.background import BACKGROUND

    docs = [d for d in BACKGROUND if d.strip()]
    counts = _raw_counts(docs)
    df = np.bincount(counts.indices, minlength=N_FEATURES).astype(np.float64)
    n = len(docs)
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    idf.setflags(write=False)  # shared by every caller of the process
    return idf


def term_bucket(key: str) -> int:
    """A stable bucket of a term key: the same in every process (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") % N_FEATURES


def _term_counts(text: str, language: str) -> tuple[dict[int, float], dict[int, str]]:
    weights: dict[int, float] = {}
    words: dict[int, str] = {}
    for term in terms(text, language):
        bucket = term_bucket(term.key)
        weights[bucket] = weights.get(bucket, 0.0) + term.weight
        words.setdefault(bucket, term.display)
    return weights, words


@lru_cache(maxsize=1)
def frozen_term_idf() -> np.ndarray:
    """Smoothed IDF of the term buckets over the background corpus (like `frozen_idf`, computed once)."""
    from matcher.background import BACKGROUND

    docs = [d for d in BACKGROUND if d.strip()]
    df = np.zeros(N_FEATURES, dtype=np.float64)
    for doc in docs:
        df[list(_term_counts(doc, detect_language(doc))[0])] += 1
    idf = (np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0).astype(np.float32)
    idf.setflags(write=False)
    return idf


def term_signature(text: str, language: str) -> tuple[SparseVector, dict[int, str]]:
    """The unit-length term vector of a text (damped weights x frozen IDF) and each bucket's words."""
    weights, words = _term_counts(text, language)
    if not weights:
        return sparse_vector([], []), {}
    keys = sorted(weights)
    idf = frozen_term_idf()
    values = np.array([(1.0 + math.log(weights[k]) if weights[k] > 1 else weights[k]) * idf[k] for k in keys])
    values = values / np.sqrt(np.sum(values * values))
    return sparse_vector(keys, values), {k: words[k] for k in keys}


def lexical_vectors(texts: list[str]) -> sp.csr_matrix:
    """Rows of damped, IDF-weighted, L2-normalised hashed char n-gram counts."""
    matrix = _raw_counts(texts).astype(np.float32)
    matrix.data = 1.0 + np.log(matrix.data)
    matrix = matrix.multiply(frozen_idf()[np.newaxis, :]).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(matrix.multiply(1.0 / norms[:, np.newaxis]), dtype=np.float32)


def lexical_signature(text: str, terms: int = LEXICAL_TERMS) -> SparseVector:
    """The `terms` heaviest n-grams of the lexical vector (ties by bucket), renormalised to unit length."""
    row = lexical_vectors([text])
    indices, values = row.indices, row.data
    if len(values) > terms:
        keep = np.argsort(-values, kind="stable")[:terms]
        indices, values = indices[keep], values[keep]
        values = values / np.float32(np.sqrt(np.sum(values.astype(np.float64) ** 2)))
    return sparse_vector(indices, values)


_TAG_IDS: dict[str, int] = {}
_TAG_KEYS: list[str] = []
_TAG_LOCK = Lock()


def tag_id(key: str) -> int:
    """A process-local id for a tag key (ids only name positions; a dot product does not depend on them)."""
    found = _TAG_IDS.get(key)
    if found is None:
        with _TAG_LOCK:
            found = _TAG_IDS.get(key)
            if found is None:
                found = _TAG_IDS[key] = len(_TAG_KEYS)
                _TAG_KEYS.append(key)
    return found


def tag_key(tag_id: int) -> str:
    return _TAG_KEYS[tag_id]


def _unit(weights: dict[int, float], norm: float) -> SparseVector:
    if not weights or norm == 0:
        return sparse_vector([], [])
    keys = sorted(weights)
    return sparse_vector(keys, [weights[k] / norm for k in keys])


def _stem_key(tag: str) -> str:
    """A tag the glossary does not know: its content words cut to 6 letters (crude, language-neutral)."""
    words = [t[:6] for t in tokens(tag) if t not in _ALL_STOPWORDS]
    return "tag:" + " ".join(words or tokens(tag))


def tag_keys(tags: list[str]) -> frozenset[str]:
    keys: set[str] = set()
    for tag in tags:
        found = [i for i in tag_concepts(tag) if CONCEPTS[i].weight >= MIN_TAG_CONCEPT_WEIGHT]
        if found:
            keys.update(f"concept:{i}" for i in found)
        else:
            keys.add(_stem_key(tag))
    return frozenset(keys)


@dataclass(frozen=True)
class Features:
    language: str
    concepts: dict[int, float]  # concept index -> salience
    concept_norm: float
    domains: dict[int, float]  # domain index -> summed salience
    domain_norm: float
    tag_keys: frozenset[str]
    lexical: SparseVector  # pruned n-gram signature, unit length (or empty)
    terms: SparseVector  # bridge term bag (lemmas, compound parts, English glosses), unit length
    term_words: dict[int, str]  # term bucket -> the words that made it ("jätehuolto → garbage waste")
    concept_vector: SparseVector  # concepts / concept_norm: a dot product is their weighted cosine
    domain_vector: SparseVector
    tag_vector: SparseVector  # 1/sqrt(#keys) per key: a dot product is the tag overlap

    def signal(self, name: str) -> SparseVector:
        """The sparse vector of one of `SPARSE_SIGNALS`: a pair's signal is the dot product of its two sides'."""
        return {
            "lexical": self.lexical,
            "terms": self.terms,
            "concepts": self.concept_vector,
            "domains": self.domain_vector,
            "tags": self.tag_vector,
        }[name]


def challenge_fields(challenge: Challenge) -> tuple[str, str, list[str]]:
    """(central text, body text, tags): title and tags are central, so they count twice for concepts."""
    return challenge.title, challenge.description, list(challenge.tags)


def company_fields(company: CompanyProfile) -> tuple[str, str, list[str]]:
    return "; ".join(company.offerings), company.description, list(company.tags)


def _build(central: str, body: str, tags: list[str], language: str | None) -> Features:
    tag_text = ", ".join(tags)
    full = " ".join([central, body, tag_text])
    counts = concept_counts(full)
    for index, n in concept_counts(" ".join([central, tag_text])).items():
        counts[index] = counts.get(index, 0) + n  # what the title/offerings and tags name is central
    weights = salience(counts)
    domains: dict[int, float] = {}
    for index, value in weights.items():
        d = _DOMAIN_INDEX[CONCEPTS[index].domain]
        domains[d] = domains.get(d, 0.0) + value
    concept_norm = math.sqrt(sum(v * v for v in weights.values()))
    domain_norm = math.sqrt(sum(v * v for v in domains.values()))
    keys = tag_keys(tags)
    ids = sorted(tag_id(k) for k in keys)
    language = language or detect_language(body)
    term_vector, term_words = term_signature(full, language)
    return Features(
        language=language,
        concepts=weights,
        concept_norm=concept_norm,
        domains=domains,
        domain_norm=domain_norm,
        tag_keys=keys,
        lexical=lexical_signature(full),
        terms=term_vector,
        term_words=term_words,
        concept_vector=_unit(weights, concept_norm),
        domain_vector=_unit(domains, domain_norm),
        tag_vector=sparse_vector(ids, [1.0 / math.sqrt(len(ids))] * len(ids)) if ids else sparse_vector([], []),
    )


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Features] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple) -> Features | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, value: Features) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


CACHE = _LRU(CACHE_SIZE)


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).digest()


def challenge_features(challenge: Challenge) -> Features:
    central, body, tags = challenge_fields(challenge)
    key = ("challenge", challenge.challenge_id, challenge.version, _digest(central, body, tags, challenge.language))
    found = CACHE.get(key)
    if found is None:
        found = _build(central, body, tags, challenge.language)
        CACHE.put(key, found)
    return found


def company_features(company: CompanyProfile) -> Features:
    central, body, tags = company_fields(company)
    key = ("company", company.company_id, company.version, _digest(central, body, tags))
    found = CACHE.get(key)
    if found is None:
        found = _build(central, body, tags, None)
        CACHE.put(key, found)
    return found


def shared_concepts(a: SparseVector, b: SparseVector, min_weight: float = 0.5) -> list[str]:
    """Labels of the specific concepts both concept vectors name, the most salient for the pair first."""
    common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    weight = a[1][ia] * b[1][ib]
    order = sorted(range(len(common)), key=lambda j: (-float(weight[j]), int(common[j])))
    return [CONCEPTS[int(common[j])].label for j in order if CONCEPTS[int(common[j])].weight >= min_weight]


__all__ = [
    "CACHE",
    "Features",
    "SPARSE_SIGNALS",
    "challenge_features",
    "company_features",
    "content_text",
    "frozen_idf",
    "lexical_signature",
    "lexical_vectors",
    "shared_concepts",
    "tag_id",
    "tag_key",
    "tag_keys",
    "term_bucket",
    "term_signature",
]
