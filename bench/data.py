"""Synthetic challenges and company profiles, recombined from the sentences of `sample_data/`.

Each synthetic entity takes a sample entity as its template (language, city, tags, offerings, cities of
interest) and gets a new description of about 120 words made of sentences drawn from sample texts of
the same language, so the glossary, the lexical n-grams and the model see realistic text. Everything is
seeded: one seed, one data set.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import numpy as np

from schemas import Challenge, CompanyProfile
from services.datasets import load_jsonl
from services.settings import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "sample_data"
WORDS = 120
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=1)
def _samples() -> tuple[list[Challenge], list[CompanyProfile]]:
    return load_jsonl(SAMPLE / "challenges.jsonl", Challenge), load_jsonl(SAMPLE / "companies.jsonl", CompanyProfile)


def _language(text: str, declared: str | None = None) -> str:
    if declared:
        return declared
    from matcher.language import detect_language

    return detect_language(text)


@lru_cache(maxsize=1)
def _sentences() -> dict[str, list[str]]:
    """Sentences of every sample description, by language."""
    challenges, companies = _samples()
    pools: dict[str, list[str]] = {}
    for text, lang in [(c.description, _language(c.description, c.language)) for c in challenges] + [
        (c.description, _language(c.description)) for c in companies
    ]:
        pools.setdefault(lang, []).extend(s for s in _SENTENCE.split(text) if len(s.split()) >= 4)
    return pools


def _description(rng: random.Random, lang: str, words: int = WORDS) -> str:
    pool = _sentences()[lang]
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        out.append(rng.choice(pool))
    return " ".join(out)[:7900]


def companies(n: int, seed: int = 1, prefix: str = "bco") -> list[CompanyProfile]:
    rng = random.Random(seed)
    templates = [c for c in _samples()[1] if c.status == "active"]
    out = []
    for i in range(n):
        t = rng.choice(templates)
        lang = _language(t.description)
        out.append(
            t.model_copy(
                update={
                    "company_id": f"{prefix}-{i:07d}",
                    "name": f"Synthetic {i} Oy",
                    "description": _description(rng, lang),
                    "tags": rng.sample(t.tags, k=max(1, len(t.tags) - 1)) if t.tags else [],
                }
            )
        )
    return out


def challenges(n: int, seed: int = 2, prefix: str = "bch") -> list[Challenge]:
    rng = random.Random(seed)
    templates = [c for c in _samples()[0] if c.status == "open"]
    out = []
    for i in range(n):
        t = rng.choice(templates)
        out.append(
            t.model_copy(
                update={
                    "challenge_id": f"{prefix}-{i:06d}",
                    "title": t.title,
                    "description": _description(rng, _language(t.description, t.language)),
                    "deadline": None,  # never past its deadline, whenever the bench runs
                }
            )
        )
    return out


def unit_vectors(n: int, dimension: int = 384, seed: int = 3, chunk: int = 100_000) -> np.ndarray:
    """n random unit float32 rows, generated in chunks to bound the temporary float64 memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dimension), dtype=np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - start), dimension), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out
