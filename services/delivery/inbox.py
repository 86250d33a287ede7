"""The inbox: `GET /companies/{company_id}/matches`, newest first, paged, each company seeing only its own;
and `GET /companies/{company_id}/challenges?min_score=`, the open challenges that fit the company now.

Where the data comes from: every inbox process reads the whole `matches`, `challenges`, `companies`
and `inbox-tokens` topics from the beginning into memory (kafka-python, no consumer group, nothing
committed) and keeps following them. It answers with 503 until it has caught up with the end offsets
it saw at start. So any number of inbox processes can run behind a load balancer, each answering for
every company, with no shared state and nothing to rebalance; a restarted one rebuilds its view from
Kafka. The cost is memory and the start-up read. The memory is bounded (services/delivery/inbox_store.py):
per company the newest MATCHMAKER_INBOX_MAX_PER_COMPANY matches, none produced longer ago than
MATCHMAKER_INBOX_RETENTION_DAYS (and none the `matches` topic no longer retains after a restart).

Stale matches are hidden: a challenge closed (status closed, or a tombstone) or a company withdrawn
(status withdrawn, or a tombstone) takes the matches of its versions up to the closing one out of the
inbox; a re-opened entity's new versions produce new matches, which are shown.

The challenges that fit a company now are answered from the same matches (the inbox holds no vectors and
scores nothing itself): per challenge the company's match of the challenge's current version and the
company's current profile version (a shortlist entry, a company's own top list or an alert: one score
per pair), without closed or past-deadline challenges, at or above `min_score`, best first. What the
worker sends makes this complete for a subscribed company: it is alerted of every open challenge at or
above its threshold when it subscribes, when it publishes a new profile version and when a challenge is
published, changed or re-opened. Below its subscription's threshold (or for a company that is not
subscribed) the answer holds only the matches the shortlists and its own top lists gave it.

Authentication: `Authorization: Bearer <token>`, issued by `matchmaker inbox-token issue --company ID`.
Only the token's SHA-256 is published (topic `inbox-tokens`) and kept. No or unknown token: 401;
another company's token: 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import threading
import time
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from schemas import Challenge, CompanyProfile, InboxToken, MatchResult
from services.bearer import hash_token
from services.delivery.inbox_store import MatchStore, SortKey
from services.kafka import codec
from services.kafka.reader import replay_batches
from services.settings import Settings
from services.versioning import Closure

log = logging.getLogger("matchmaker.inbox")


EXPIRE_EVERY = 60.0  # seconds between sweeps of matches past retention (pages hide them at once)


class InboxView:
    """The in-memory view of the topics, filled and followed by one background consumer thread."""

    def __init__(self, settings: Settings, poll_seconds: float = 0.2) -> None:
        self.settings = settings
        cities = {topic: city for city, topic in settings.city_topics.items()}
        self._challenge_topics = {topic: cities.get(topic) for topic in settings.challenge_topics}
        self.poll_seconds = poll_seconds
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        d = settings.delivery
        self._matches = MatchStore(d.inbox_max_per_company, d.inbox_retention_days * 86_400.0)
        self._expired_at = time.monotonic()
        self._challenges: dict[str, Closure] = {}  # open/closed state: services/versioning.py
        self._companies: dict[str, Closure] = {}
        self._deadlines: dict[str, date | None] = {}  # challenge_id -> the deadline of its highest version
        self._token_of: dict[str, str] = {}  # company_id -> token sha256
        self._company_of: dict[str, str] = {}  # token sha256 -> company_id
        self._thread = threading.Thread(target=self._run, name="inbox-view", daemon=True)
        self.error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> InboxView:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def _run(self) -> None:
        s = self.settings
        topics = [s.topic_matches, *s.challenge_topics, s.topic_companies, s.delivery.topic_inbox_tokens]
        try:
            for batch in replay_batches(
                s,
                topics,
                client_id="matchmaker-inbox",
                follow=True,
                stop=self._stop,
                on_caught_up=self.ready.set,
                poll_seconds=self.poll_seconds,
            ):
                with self._lock:
                    for record in batch:
                        self._apply(record.topic, record.key, record.value)
                    if time.monotonic() - self._expired_at >= EXPIRE_EVERY:
                        self._matches.expire()
                        self._expired_at = time.monotonic()
        except Exception as error:
            self.error = error
            log.exception("inbox view stopped")

    # -- applying records -----------------------------------------------------------------------
    def _apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        s = self.settings
        if topic == s.topic_matches:
            self._apply_match(value)
        elif topic in self._challenge_topics:
            decoded = codec.from_city(self._challenge_topics[topic], codec.decode("challenge", key, value))
            if isinstance(decoded, codec.Tombstone):
                _close(self._challenges, decoded.key, None, True)
            elif isinstance(decoded, Challenge):
                if self._challenges.get(decoded.challenge_id, Closure()).accepts(decoded.version):
                    self._deadlines[decoded.challenge_id] = decoded.deadline
                _close(self._challenges, decoded.challenge_id, decoded.version, decoded.status == "closed")
        elif topic == s.topic_companies:
            decoded = codec.decode("company", key, value)
            if isinstance(decoded, codec.Tombstone):
                _close(self._companies, decoded.key, None, True)
            elif isinstance(decoded, CompanyProfile):
                _close(self._companies, decoded.company_id, decoded.version, decoded.status == "withdrawn")
        elif topic == s.delivery.topic_inbox_tokens:
            self._apply_token(key, value)

    def _apply_match(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            result = MatchResult.model_validate_json(value)
        except ValidationError:
            return
        self._matches.add(result)  # duplicates (same match_id) are shown once; bounded per company

    def _apply_token(self, key: bytes | None, value: bytes | None) -> None:
        company_id = key.decode("utf-8", errors="replace") if key else None
        if value is None:
            if company_id:
                old = self._token_of.pop(company_id, None)
                if old:
                    self._company_of.pop(old, None)
            return
        try:
            token = InboxToken.model_validate_json(value)
        except ValidationError:
            return
        if company_id is not None and company_id != token.company_id:
            return
        old = self._token_of.get(token.company_id)
        if old:
            self._company_of.pop(old, None)
        self._token_of[token.company_id] = token.token_sha256
        self._company_of[token.token_sha256] = token.company_id

    # -- queries --------------------------------------------------------------------------------
    def company_for_token(self, token: str) -> str | None:
        digest = hash_token(token)
        with self._lock:
            company_id = self._company_of.get(digest)
            # constant-time confirmation of the stored hash (the dict lookup already matched it)
            if company_id is not None and hmac.compare_digest(self._token_of.get(company_id, ""), digest):
                return company_id
        return None

    def page(self, company_id: str, limit: int, cursor: SortKey | None) -> tuple[list[dict], SortKey | None]:
        with self._lock:
            company = self._companies.get(company_id)
            items = [
                match
                for match in self._matches.of(company_id)
                if not (company and company.hides(match.company_version))
                and not ((status := self._challenges.get(match.challenge_id)) and status.hides(match.challenge_version))
            ]
        items.sort(key=lambda match: match.key, reverse=True)
        if cursor is not None:
            items = [match for match in items if match.key < cursor]
        page = items[:limit]
        next_cursor = page[-1].key if len(items) > limit else None
        return [match.to_dict() for match in page], next_cursor

    def fitting(self, company_id: str, min_score: float, today: date | None = None) -> list[dict]:
        """The open challenges that fit the company now, best first: per challenge the match of its current
        version and the company's current version, at or above `min_score` (see the module's docstring)."""
        today = today or datetime.now(UTC).date()
        best: dict[str, Any] = {}
        with self._lock:
            company = self._companies.get(company_id)
            for match in self._matches.of(company_id):
                challenge = self._challenges.get(match.challenge_id)
                if company is not None and (
                    company.hides(match.company_version) or company.version > match.company_version
                ):
                    continue  # the company withdrew, or changed its profile since: that score is not its score now
                if challenge is None or challenge.hides(match.challenge_version):
                    continue  # unknown (never published, or past the topic's retention) or closed
                if challenge.version != match.challenge_version:
                    continue  # made from an older version of the challenge
                deadline = self._deadlines.get(match.challenge_id)
                if deadline is not None and deadline < today:
                    continue
                found = match.to_dict()
                if found["score"] >= min_score:
                    best.setdefault(match.challenge_id, found)  # one per pair: duplicates share the score
        return sorted(best.values(), key=lambda m: (-m["score"], m["challenge_id"]))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._matches.stats(), "tokens": len(self._token_of)}


def _close(states: dict[str, Closure], key: str, version: int | None, closed: bool) -> None:
    """Apply one entity event (version None: a tombstone) to its open/closed state."""
    states[key] = states.get(key, Closure()).apply(version, closed)


def encode_cursor(key: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps([key[0], key[1]]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, match_id = json.loads(raw)
        return float(when), str(match_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise HTTPException(status_code=400, detail="invalid cursor") from None


class InboxPage(BaseModel):
    company_id: str
    matches: list[MatchResult]
    next_cursor: str | None = None


class FittingChallenges(BaseModel):
    company_id: str
    min_score: float
    challenges: list[MatchResult]


def create_app(settings: Settings, view: InboxView | None = None) -> FastAPI:
    """The inbox API. Starts (and stops) its own view unless one is given."""
    own_view = view is None
    view = view or InboxView(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if own_view:
            view.start()
        yield
        if own_view:
            view.stop()

    app = FastAPI(title="Six Cities Matchmaker inbox", version="1", lifespan=lifespan)
    app.state.view = view

    def authorised_company(request: Request, company_id: str) -> str:
        if not view.ready.is_set():
            raise HTTPException(
                status_code=503,
                detail="the inbox is catching up with Kafka; retry shortly",
                headers={"Retry-After": "2"},
            )
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(status_code=401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        owner = view.company_for_token(token.strip())
        if owner is None:
            raise HTTPException(
                status_code=401,
                detail="invalid or revoked token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if owner != company_id:
            raise HTTPException(status_code=403, detail="this token belongs to another company")
        return owner

    @app.get("/companies/{company_id}/matches", response_model=InboxPage)
    def company_matches(
        company_id: str,
        limit: int = Query(default=20, ge=1, le=settings.delivery.inbox_max_page),
        cursor: str | None = Query(default=None, description="next_cursor of the previous page"),
        owner: str = Depends(authorised_company),
    ) -> dict:
        matches, next_key = view.page(owner, limit, decode_cursor(cursor) if cursor else None)
        return {"company_id": owner, "matches": matches, "next_cursor": encode_cursor(next_key) if next_key else None}

    @app.get("/companies/{company_id}/challenges", response_model=FittingChallenges)
    def company_challenges(
        company_id: str,
        min_score: float = Query(default=0.0, ge=0.0, le=1.0, description="only challenges scoring at least this"),
        owner: str = Depends(authorised_company),
    ) -> dict:
        """The open challenges that fit the company now, best first (one match per challenge)."""
        return {"company_id": owner, "min_score": min_score, "challenges": view.fitting(owner, min_score)}

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        ready = view.ready.is_set()
        body = {"ready": ready, **view.stats(), "error": repr(view.error) if view.error else None}
        return JSONResponse(body, status_code=200 if ready and view.error is None else 503)

    return app


def run_inbox(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    settings = settings.as_principal("inbox")
    uvicorn.run(
        create_app(settings),
        host=host or settings.delivery.inbox_host,
        port=port or settings.delivery.inbox_port,
        log_level=settings.log_level.lower(),
        log_config=None,
    )  # log through services.logs
