"""Per-publisher API tokens for the ingest API: issued by the CLI, stored only as SHA-256 hashes.

A token looks like `mmt_1a2b3c4d.<43 url-safe characters>`: the part before the dot is the token id
(public, shown by `matchmaker api-token list`, used to find the record), the rest is 32 random bytes.
The file (default `<MATCHMAKER_HOME>/api-tokens.json`, mode 0600) keeps the SHA-256 of the whole
token, never the token itself, so it is printed exactly once, when it is issued.

Each token belongs to one publisher: a city (may write only that city's challenges) or a company
(may write only its own profile). The API re-reads the file when it changes, so issuing or revoking
a token needs no restart.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from schemas import City
from schemas.events import is_identifier
from services.bearer import hash_token
from services.errors import InvalidInputError

TOKEN_PREFIX = "mmt_"
_TOKEN_RE = re.compile(r"^(mmt_[0-9a-f]{8})\.([A-Za-z0-9_-]{20,128})$")
CITIES = {city.value.lower(): city.value for city in City}


@dataclass(frozen=True)
class Principal:
    """Who is calling: exactly one of city / company_id is set."""

    token_id: str
    city: str | None = None
    company_id: str | None = None

    @property
    def scope(self) -> str:
        """Namespace of this publisher's idempotency keys (stable across its tokens)."""
        return f"city:{self.city}" if self.city else f"company:{self.company_id}"

    def describe(self) -> str:
        return f"city {self.city}" if self.city else f"company {self.company_id}"


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    sha256: str
    city: str | None
    company_id: str | None
    label: str
    created_at: str
    revoked_at: str | None

    def to_json(self) -> dict:
        return {
            "sha256": self.sha256,
            "city": self.city,
            "company_id": self.company_id,
            "label": self.label,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }

    @classmethod
    def from_json(cls, token_id: str, data: dict) -> TokenRecord:
        return cls(
            token_id,
            data["sha256"],
            data.get("city"),
            data.get("company_id"),
            data.get("label", ""),
            data.get("created_at", ""),
            data.get("revoked_at"),
        )


def canonical_city(name: str) -> str:
    city = CITIES.get(name.strip().lower())
    if city is None:
        raise InvalidInputError(f"unknown city {name!r}: use one of {', '.join(CITIES.values())}")
    return city


class TokenStore:
    """The token file. Safe for several processes (an advisory lock guards writes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[float, int, dict[str, TokenRecord]] | None = None
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------
    def records(self) -> dict[str, TokenRecord]:
        """All records; re-read only when the file's mtime or size changed."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        with self._lock:
            if self._cache and self._cache[:2] == (stat.st_mtime, stat.st_size):
                return self._cache[2]
            records = self._read()
            self._cache = (stat.st_mtime, stat.st_size, records)
            return records

    def _read(self) -> dict[str, TokenRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {
            token_id: TokenRecord.from_json(token_id, record) for token_id, record in data.get("tokens", {}).items()
        }

    def authenticate(self, token: str | None) -> Principal | None:
        """The publisher a presented token belongs to, or None (unknown, malformed or revoked)."""
        if not token:
            return None
        match = _TOKEN_RE.match(token.strip())
        if not match:
            return None
        record = self.records().get(match.group(1))
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(record.sha256, hash_token(token.strip())):
            return None
        return Principal(record.token_id, city=record.city, company_id=record.company_id)

    # -- writing (the CLI) --------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[dict]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    data = {"format": 1, "tokens": {}}
                yield data
                tmp = self.path.with_name(self.path.name + ".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, indent=2, sort_keys=True)
                    out.write("\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def issue(self, city: str | None = None, company_id: str | None = None, label: str = "") -> tuple[str, TokenRecord]:
        """Create a token for one city or one company. Returns (token, record); the token is not stored."""
        if (city is None) == (company_id is None):
            raise InvalidInputError("a token is for exactly one publisher: give a city or a company id")
        if city is not None:
            city = canonical_city(city)
        if company_id is not None and not is_identifier(company_id):
            raise InvalidInputError(f"invalid company id {company_id!r}")
        with self._locked() as data:
            token_id = TOKEN_PREFIX + secrets.token_hex(4)
            while token_id in data["tokens"]:
                token_id = TOKEN_PREFIX + secrets.token_hex(4)
            token = f"{token_id}.{secrets.token_urlsafe(32)}"
            record = TokenRecord(
                token_id,
                hash_token(token),
                city,
                company_id,
                label,
                datetime.now(UTC).isoformat(timespec="seconds"),
                None,
            )
            data["tokens"][token_id] = record.to_json()
        return token, record

    def revoke(self, token_id: str) -> bool:
        with self._locked() as data:
            record = data["tokens"].get(token_id)
            if record is None:
                return False
            record.setdefault("revoked_at", None)
            if record["revoked_at"] is None:
                record["revoked_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            return True
