"""Bearer tokens (ingest API tokens, inbox tokens) are stored and published only as their SHA-256."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token. Tokens are 256-bit random strings, so one hash (no salt, no stretching) is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


__all__ = ["hash_token"]
