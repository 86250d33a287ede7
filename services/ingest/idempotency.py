"""Idempotency-Key records of the ingest API, in a small SQLite file that survives restarts.

A write request may carry an `Idempotency-Key` header. The first request with a key is processed
and its answer (status and JSON body, never the submitted profile or challenge) is stored under
(publisher, key) together with a SHA-256 fingerprint of method, path and body. A repeat with the same
key and the same request gets the stored answer and publishes nothing; the same key with a different
request gets 422; a repeat while the first is still in flight gets 409. Only accepted (2xx) answers
are stored: a request that failed (401/403/409/422/503) may be retried with the same key.

Records expire after `ttl_seconds` (default 24 h). The file is per API instance: replicas behind a
load balancer should share it (same host/volume) or route a publisher to one replica.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,            -- 'pending' while the first request runs, then 'done'
    status INTEGER,
    body TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (scope, key)
)
"""


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogatepass"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Begin:
    outcome: Literal["new", "replay", "mismatch", "in_progress"]
    status: int | None = None
    body: str | None = None


class IdempotencyStore:
    def __init__(self, path: Path, ttl_seconds: float = 86_400.0, pending_timeout: float = 120.0) -> None:
        self.path = Path(path)
        self.ttl = ttl_seconds
        self.pending_timeout = pending_timeout
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
        self.purge()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # autocommit; explicit BEGIN where needed
        try:
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def begin(self, scope: str, key: str, print_: str, now: float | None = None) -> Begin:
        """Claim (scope, key) for a new request, or say why not."""
        now = time.time() if now is None else now
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM idempotency WHERE scope=? AND key=? AND created<?", (scope, key, now - self.ttl)
                )
                row = db.execute(
                    "SELECT fingerprint, state, status, body, created FROM idempotency WHERE scope=? AND key=?",
                    (scope, key),
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO idempotency (scope, key, fingerprint, state, created) VALUES (?,?,?,'pending',?)",
                        (scope, key, print_, now),
                    )
                    result = Begin("new")
                elif row[0] != print_:
                    result = Begin("mismatch")
                elif row[1] == "done":
                    result = Begin("replay", row[2], row[3])
                elif row[4] < now - self.pending_timeout:  # the first attempt died mid-way: take over
                    db.execute("UPDATE idempotency SET created=? WHERE scope=? AND key=?", (now, scope, key))
                    result = Begin("new")
                else:
                    result = Begin("in_progress")
                db.execute("COMMIT")
                return result
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def complete(self, scope: str, key: str, status: int, body: str) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE idempotency SET state='done', status=?, body=? WHERE scope=? AND key=?",
                (status, body, scope, key),
            )

    def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request did not succeed, so the client can retry with the same key."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM idempotency WHERE scope=? AND key=? AND state='pending'", (scope, key))

    def purge(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._lock, self._connect() as db:
            return db.execute("DELETE FROM idempotency WHERE created<?", (now - self.ttl,)).rowcount
