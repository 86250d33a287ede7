"""Helpers for the matcher unit tests: entity factories and a tiny deterministic fake embedder."""

from __future__ import annotations

import hashlib
from itertools import count

import numpy as np

from schemas import Challenge, CompanyProfile

_serial = count(1000001)


def business_id() -> str:
    """A fresh Y-tunnus with a valid check digit."""
    while True:
        body = f"{next(_serial):07d}"
        remainder = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder != 1:
            return f"{body}-{0 if remainder == 0 else 11 - remainder}"


def make_challenge(challenge_id: str = "ch-1", **fields) -> Challenge:
    data = {
        "challenge_id": challenge_id,
        "version": 1,
        "city": "Helsinki",
        "title": "A challenge",
        "description": "A description of what the city needs.",
        "language": "en",
    }
    data.update(fields)
    return Challenge.model_validate(data)


def make_company(company_id: str = "co-1", **fields) -> CompanyProfile:
    data = {
        "company_id": company_id,
        "version": 1,
        "name": company_id.upper(),
        "business_id": business_id(),
        "description": "A company.",
    }
    data.update(fields)
    return CompanyProfile.model_validate(data)


class HashEmbedder:
    """Deterministic stand-in for a sentence model: hashed word counts, unit length. No download."""

    name = "hash-embedder"
    dimension = 64

    def encode(self, texts):
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = np.linalg.norm(rows[i])
            if norm:
                rows[i] /= norm
        return rows
