"""The ingest API: city platforms and companies publish over HTTP instead of (or as well as) Kafka.

    POST   /v1/challenges              create a challenge (challenge_id and version optional)
    PUT    /v1/challenges/{id}         create or replace a challenge (version optional)
    POST   /v1/challenges/{id}/close   publish the current challenge with status closed, version + 1
    PUT    /v1/companies/{id}          create or replace a company profile (version optional)
    DELETE /v1/companies/{id}          erase a company: publishes a tombstone (null value)

Every accepted request is validated with the `schemas` models, published with acks=all and waited
for, and answered 202 with the event's key, version and position (topic, partition, offset).
Authentication: per-publisher bearer tokens (`matchmaker api-token issue`, see services/ingest/tokens.py).
Idempotency: `Idempotency-Key` header (services/ingest/idempotency.py). Versions: services/ingest/versions.py.

Serve with `matchmaker api`; write the OpenAPI document with `python -m services.ingest.app --export-openapi`
(checked in as schemas/openapi.json; a unit test fails while it is stale).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import uuid
from contextlib import asynccontextmanager
from typing import Annotated, Any, Callable, Literal

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticSerializationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas import Challenge, CompanyProfile
from schemas.events import ID_MAX_LENGTH, ID_PATTERN, Identifier
from services import versioning
from services.ingest.idempotency import IdempotencyStore, fingerprint
from services.ingest.versions import Entry, TopicFollower, VersionView
from services.ingest.tokens import Principal, TokenStore
from services.logs import configure_logging
from services.errors import (
    BrokerError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    MatchmakerError,
    NotFoundError,
    NotReadyError,
)
from services.settings import PROJECT_ROOT, Settings

log = logging.getLogger("matchmaker.api")

OPENAPI_PATH = PROJECT_ROOT / "schemas" / "openapi.json"
CITY_CODES = {"Helsinki": "hel", "Espoo": "esp", "Tampere": "tre", "Vantaa": "van", "Oulu": "oul", "Turku": "tku"}


# -- request and response bodies ----------------------------------------------------------------


class ChallengeRequest(Challenge):
    """A Challenge as a request body: `challenge_id` comes from the path (or is assigned by POST), and
    `version` may be omitted, in which case the API assigns the next one."""

    challenge_id: Identifier | None = Field(default=None, description="Optional; must equal the path id when given.")
    version: int | None = Field(default=None, ge=1, description="Optional; default: the current version + 1.")


class CompanyProfileRequest(CompanyProfile):
    """A CompanyProfile as a request body: `company_id` comes from the path, `version` is optional."""

    company_id: Identifier | None = Field(default=None, description="Optional; must equal the path id when given.")
    version: int | None = Field(default=None, ge=1, description="Optional; default: the current version + 1.")


class Accepted(BaseModel):
    """Where the event now is in Kafka."""

    kind: Literal["challenge", "company"]
    key: str = Field(description="The message key: challenge_id or company_id.")
    version: int | None = Field(description="Version of the published event (for a tombstone: the last known version).")
    tombstone: bool = Field(default=False, description="True when a null value (erasure) was published.")
    published: bool = Field(default=True, description="False when nothing needed publishing (closing a closed challenge).")
    topic: str
    partition: int
    offset: int


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The token's publisher may not write this entity."},
    409: {"model": Problem, "description": "Version not newer than the current one, entity exists (POST), or "
          "a request with the same Idempotency-Key is still in flight."},
    413: {"model": Problem, "description": "Request body larger than MATCHMAKER_API_MAX_BODY_BYTES (default 65536)."},
    415: {"model": Problem, "description": "A body with a Content-Type other than application/json."},
    503: {"model": Problem, "description": "The broker did not acknowledge, or the API is still starting. Retry."},
}
REPLAY_HEADER = {"Idempotent-Replayed": {"description": "true when this is the stored answer to an earlier request "
                                         "with the same Idempotency-Key", "schema": {"type": "string"}}}
ACCEPTED_DOC = {"description": "Published and acknowledged by all in-sync replicas.", "headers": REPLAY_HEADER}


# -- the service behind the routes (blocking: called from the threadpool) -----------------------


def _field_error(loc: tuple, msg: str, value: Any) -> InvalidInputError:
    return InvalidInputError(msg, errors=[{"type": "value_error", "loc": loc, "msg": msg, "input": value}])


class Ingest:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = api = settings.api
        self.tokens = TokenStore(api.tokens_path(settings.home))
        self.idempotency = IdempotencyStore(api.idempotency_path(settings.home), api.idempotency_ttl_seconds)
        self.view = VersionView()
        self.follower: TopicFollower | None = None
        self.producer = None
        self._stripes = [threading.Lock() for _ in range(256)]
        self.topics = {"challenge": settings.topic_challenges, "company": settings.topic_companies}

    def start(self) -> None:
        from services.kafka import clients
        from services.kafka.topics import ensure_topics

        ensure_topics(self.settings)
        self.producer = clients.producer(self.settings, client_id="matchmaker-api", linger_ms=0, retries=5)
        self.follower = TopicFollower(self.view, self.settings,
                                      {self.settings.topic_challenges: "challenge", self.settings.topic_companies: "company"})
        self.follower.start()
        if not self.follower.ready.wait(self.api.startup_timeout):
            log.warning("version view not ready after %.0fs; writes answer 503 until it is", self.api.startup_timeout)

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower.join(timeout=5)
        if self.producer is not None:
            self.producer.close(timeout=5)

    @property
    def ready(self) -> bool:
        return self.follower is not None and self.follower.ready.is_set() and self.follower.failed is None

    def _lock(self, kind: str, key: str) -> threading.Lock:
        return self._stripes[hash((kind, key)) % len(self._stripes)]

    # -- idempotency wrapper ------------------------------------------------------------------
    def write(self, principal: Principal, idempotency_key: str | None, method: str, path: str, body: bytes,
              action: Callable[[], tuple[int, Accepted]]) -> JSONResponse:
        if not self.ready:
            raise NotReadyError("the API is starting: reading the current versions from Kafka")
        if idempotency_key is None:
            status, accepted = action()
            return JSONResponse(accepted.model_dump(mode="json"), status)
        scope = principal.scope
        begin = self.idempotency.begin(scope, idempotency_key, fingerprint(method, path, body))
        if begin.outcome == "replay":
            return JSONResponse(json.loads(begin.body or "{}"), begin.status or 200, headers={"Idempotent-Replayed": "true"})
        if begin.outcome == "mismatch":
            raise _field_error(("header", "Idempotency-Key"), "this Idempotency-Key was used for a different request",
                               idempotency_key)
        if begin.outcome == "in_progress":
            raise ConflictError("a request with this Idempotency-Key is still being processed; retry later")
        try:
            status, accepted = action()
        except BaseException:
            self.idempotency.release(scope, idempotency_key)
            raise
        payload = accepted.model_dump(mode="json")
        self.idempotency.complete(scope, idempotency_key, status, json.dumps(payload))
        return JSONResponse(payload, status, headers={"Idempotent-Replayed": "false"})

    # -- Kafka ---------------------------------------------------------------------------------
    def _send(self, kind: str, key: str, value: bytes | None):
        from kafka.errors import KafkaError

        try:
            return self.producer.send(self.topics[kind], key=key.encode("utf-8"), value=value).get(
                timeout=self.api.publish_timeout
            )
        except KafkaError as error:
            log.warning("publish of %s %s failed: %r", kind, key, error)
            raise BrokerError(f"the broker did not acknowledge the event ({type(error).__name__}); retry") from error

    @staticmethod
    def _encode(event: Challenge | CompanyProfile) -> bytes:
        try:
            return event.model_dump_json().encode("utf-8")
        except (PydanticSerializationError, UnicodeEncodeError) as error:  # e.g. a lone UTF-16 surrogate
            raise _field_error(("body",), f"the event cannot be encoded as UTF-8 JSON: {error}", None) from error

    @staticmethod
    def _next_version(kind: str, key: str, entry: Entry | None, requested: int | None) -> int:
        current = entry.version if entry else None
        if requested is None:
            return (current or 0) + 1
        if not versioning.decide(current, requested).wins:  # stale or the same version
            raise ConflictError(f"version {requested} of {kind} {key!r} is not newer than its current version {current}")
        return requested

    def _accepted(self, kind: str, key: str, version: int | None, metadata, status: int = 202,
                  tombstone: bool = False) -> tuple[int, Accepted]:
        return status, Accepted(kind=kind, key=key, version=version, tombstone=tombstone, topic=metadata.topic,
                                partition=metadata.partition, offset=metadata.offset)

    # -- challenges ----------------------------------------------------------------------------
    @staticmethod
    def _city_of(principal: Principal) -> str:
        if principal.city is None:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish challenges")
        return principal.city

    def _publish_challenge(self, challenge_id: str, request: ChallengeRequest, entry: Entry | None) -> tuple[int, Accepted]:
        version = self._next_version("challenge", challenge_id, entry, request.version)
        try:
            event = Challenge.model_validate({**request.model_dump(), "challenge_id": challenge_id, "version": version})
        except ValidationError as error:
            raise InvalidInputError(str(error), errors=error.errors(include_url=False)) from error
        metadata = self._send("challenge", challenge_id, self._encode(event))
        self.view.apply("challenge", challenge_id, event, metadata.partition, metadata.offset)
        return self._accepted("challenge", challenge_id, version, metadata)

    def create_challenge(self, principal: Principal, request: ChallengeRequest) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        if request.city != city:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish a challenge of {request.city}")
        challenge_id = request.challenge_id or f"ch-{CITY_CODES[city]}-{uuid.uuid4().hex[:12]}"
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is not None and not entry.deleted:
                raise ConflictError(f"challenge {challenge_id!r} already exists (version {entry.version}): "
                                f"use PUT /v1/challenges/{challenge_id}")
            return self._publish_challenge(challenge_id, request, entry)

    def put_challenge(self, principal: Principal, challenge_id: str, request: ChallengeRequest) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        if request.challenge_id is not None and request.challenge_id != challenge_id:
            raise _field_error(("body", "challenge_id"), f"must equal the id in the path ({challenge_id})",
                               request.challenge_id)
        if request.city != city:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish a challenge of {request.city}")
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is not None and entry.challenge is not None and not entry.deleted and entry.challenge.city != city:
                raise ForbiddenError(f"challenge {challenge_id!r} belongs to {entry.challenge.city}")
            return self._publish_challenge(challenge_id, request, entry)

    def close_challenge(self, principal: Principal, challenge_id: str) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is None or entry.deleted or entry.challenge is None:
                raise NotFoundError(f"no challenge {challenge_id!r}")
            current = entry.challenge
            if current.city != city:
                raise ForbiddenError(f"challenge {challenge_id!r} belongs to {current.city}")
            if current.status == "closed":
                return 200, Accepted(kind="challenge", key=challenge_id, version=entry.version, published=False,
                                     topic=self.topics["challenge"], partition=entry.partition, offset=entry.offset)
            event = Challenge.model_validate({**current.model_dump(), "status": "closed", "version": (entry.version or 0) + 1})
            metadata = self._send("challenge", challenge_id, self._encode(event))
            self.view.apply("challenge", challenge_id, event, metadata.partition, metadata.offset)
            return self._accepted("challenge", challenge_id, event.version, metadata)

    # -- companies -----------------------------------------------------------------------------
    @staticmethod
    def _own_company(principal: Principal, company_id: str) -> None:
        if principal.company_id != company_id:
            raise ForbiddenError(f"a token of {principal.describe()} may not write company {company_id!r}")

    def put_company(self, principal: Principal, company_id: str, request: CompanyProfileRequest) -> tuple[int, Accepted]:
        self._own_company(principal, company_id)
        if request.company_id is not None and request.company_id != company_id:
            raise _field_error(("body", "company_id"), f"must equal the id in the path ({company_id})", request.company_id)
        with self._lock("company", company_id):
            entry = self.view.get("company", company_id)
            version = self._next_version("company", company_id, entry, request.version)
            try:
                event = CompanyProfile.model_validate({**request.model_dump(), "company_id": company_id, "version": version})
            except ValidationError as error:
                raise InvalidInputError(str(error), errors=error.errors(include_url=False)) from error
            metadata = self._send("company", company_id, self._encode(event))
            self.view.apply("company", company_id, event, metadata.partition, metadata.offset)
            return self._accepted("company", company_id, version, metadata)

    def delete_company(self, principal: Principal, company_id: str) -> tuple[int, Accepted]:
        self._own_company(principal, company_id)
        with self._lock("company", company_id):
            entry = self.view.get("company", company_id)
            metadata = self._send("company", company_id, None)
            self.view.apply("company", company_id, None, metadata.partition, metadata.offset)
            return self._accepted("company", company_id, entry.version if entry else None, metadata, tombstone=True)


# -- HTTP ----------------------------------------------------------------------------------------


class BodyLimit:
    """Pure ASGI middleware: 413 when Content-Length or the bytes actually received exceed the limit;
    415 when a non-empty body is declared as something other than JSON."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    @staticmethod
    async def _refuse(send: Any, status: int, detail: str | list) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                    return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False
        content_type = next((v for n, v in scope.get("headers", []) if n == b"content-type"), b"").decode("latin-1")
        media = content_type.split(";")[0].strip().lower()
        if body and media and media != "application/json" and not media.endswith("+json"):
            await self._refuse(send, 415, f"the body must be JSON (Content-Type: application/json), not {media}")
            return
        if body:
            problem = _unparseable(body)
            if problem:  # FastAPI would answer 400 for these; keep every body error a 422 with a location
                await self._refuse(send, 422, [{"type": "json_invalid", "loc": ["body"], "msg": problem, "input": None}])
                return

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unparseable(body: bytes) -> str | None:
    """Why a body is not even JSON text FastAPI can report on (JSON syntax errors are left to FastAPI)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the body is not UTF-8 text (byte {error.start} is invalid)"
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return None
    except (RecursionError, ValueError) as error:
        return f"the body cannot be parsed as JSON ({type(error).__name__})"
    return None


ERROR_STATUS: dict[type[MatchmakerError], int] = {
    InvalidInputError: 422, ForbiddenError: 403, NotFoundError: 404, ConflictError: 409, NotReadyError: 503, BrokerError: 503,
}


async def _domain_error(request: Request, error: MatchmakerError) -> Response:
    """The one mapping from the service's errors to HTTP: 422 bodies as FastAPI's, 503 with Retry-After."""
    if isinstance(error, InvalidInputError):
        errors = error.errors or [{"type": "value_error", "loc": ("body",), "msg": str(error), "input": None}]
        return await request_validation_exception_handler(request, RequestValidationError(errors))
    status = next((code for kind, code in ERROR_STATUS.items() if isinstance(error, kind)), 500)
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse({"detail": str(error)}, status, headers=headers)


async def _method_not_allowed(request: Request, error: StarletteHTTPException) -> Response:
    """405 with an Allow header listing every method of the path (Starlette lists only the first route's)."""
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(request.scope["path"]):
            methods |= set(route.methods or ())
    return JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"Allow": ", ".join(sorted(methods))})


bearer = HTTPBearer(auto_error=False, scheme_name="PublisherToken",
                    description="A publisher token from `matchmaker api-token issue --city CITY | --company ID`.")


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge)
    principal = request.app.state.ingest.tokens.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", headers=challenge)
    return principal


Publisher = Annotated[Principal, Depends(authenticate)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
           description="Optional, unique per logical request: a repeat gets the first answer and publishes nothing "
           "(kept 24 h by default)."),
]
CHALLENGE_EXAMPLE = {
    "challenge_id": "ch-esp-101", "city": "Espoo", "language": "en", "title": "Quieter school yards",
    "description": "Reduce traffic noise in school yards with barriers, planting or smarter traffic rules.",
    "tags": ["noise", "schools"], "deadline": "2027-06-30", "budget_eur": 40000,
}
COMPANY_EXAMPLE = {
    "name": "Example Oy", "business_id": "2617416-4", "description": "Indoor air sensors for schools and day-care centres.",
    "offerings": ["indoor air sensors"], "tags": ["indoor air", "iot"], "cities_of_interest": ["Espoo", "Vantaa"],
    "employees": 25, "languages": ["fi", "en"],
}
ChallengeBody = Annotated[ChallengeRequest, Body(openapi_examples={"espoo": {"summary": "An Espoo challenge",
                                                                             "value": CHALLENGE_EXAMPLE}})]
CompanyBody = Annotated[CompanyProfileRequest, Body(openapi_examples={"profile": {"summary": "A company profile",
                                                                                  "value": COMPANY_EXAMPLE}})]
ChallengeId = Annotated[str, PathParam(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="challenge_id")]
CompanyId = Annotated[str, PathParam(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="company_id")]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        ingest = Ingest(settings)
        app.state.ingest = ingest
        await run_in_threadpool(ingest.start)
        try:
            yield
        finally:
            await run_in_threadpool(ingest.stop)

    app = FastAPI(
        title="Six Cities Matchmaker ingest API",
        version="1.0.0",
        description="Publish challenges (cities) and company profiles (companies) over HTTP. Each accepted "
        "request is validated with the same contracts as the Kafka topics, published with acks=all, and answered "
        "202 with the event's Kafka position. Bearer tokens are per publisher: a city's token writes only that "
        "city's challenges, a company's token only its own profile.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.add_exception_handler(StarletteHTTPException, _method_not_allowed)
    app.add_exception_handler(MatchmakerError, _domain_error)

    async def run(request: Request, principal: Principal, key: str | None, action: Callable[[Ingest], tuple[int, Accepted]]):
        ingest: Ingest = request.app.state.ingest
        body = await request.body()
        return await run_in_threadpool(ingest.write, principal, key, request.method, request.url.path, body,
                                       lambda: action(ingest))

    @app.post("/v1/challenges", status_code=202, response_model=Accepted, tags=["challenges"],
              summary="Create a challenge", responses={202: ACCEPTED_DOC, **ERRORS})
    async def create_challenge(request: Request, body: ChallengeBody, principal: Publisher,
                               idempotency_key: IdempotencyKey = None):
        """Without `challenge_id` the API assigns one (`ch-<city>-<random>`); an existing id gets 409."""
        return await run(request, principal, idempotency_key, lambda i: i.create_challenge(principal, body))

    @app.put("/v1/challenges/{challenge_id}", status_code=202, response_model=Accepted, tags=["challenges"],
             summary="Create or replace a challenge", responses={202: ACCEPTED_DOC, **ERRORS})
    async def put_challenge(request: Request, challenge_id: ChallengeId, body: ChallengeBody, principal: Publisher,
                            idempotency_key: IdempotencyKey = None):
        """Without `version` the API assigns the current version + 1; a version not above the current one gets 409."""
        return await run(request, principal, idempotency_key, lambda i: i.put_challenge(principal, challenge_id, body))

    @app.post("/v1/challenges/{challenge_id}/close", status_code=202, response_model=Accepted, tags=["challenges"],
              summary="Close a challenge",
              responses={202: ACCEPTED_DOC, 200: {"model": Accepted, "description": "Already closed: nothing published."},
                         404: {"model": Problem, "description": "No such challenge."}, **ERRORS})
    async def close_challenge(request: Request, challenge_id: ChallengeId, principal: Publisher,
                              idempotency_key: IdempotencyKey = None):
        """Publishes the current challenge with status `closed` and version + 1."""
        return await run(request, principal, idempotency_key, lambda i: i.close_challenge(principal, challenge_id))

    @app.put("/v1/companies/{company_id}", status_code=202, response_model=Accepted, tags=["companies"],
             summary="Create or replace a company profile", responses={202: ACCEPTED_DOC, **ERRORS})
    async def put_company(request: Request, company_id: CompanyId, body: CompanyBody, principal: Publisher,
                          idempotency_key: IdempotencyKey = None):
        """Without `version` the API assigns the current version + 1; a version not above the current one gets 409."""
        return await run(request, principal, idempotency_key, lambda i: i.put_company(principal, company_id, body))

    @app.delete("/v1/companies/{company_id}", status_code=202, response_model=Accepted, tags=["companies"],
                summary="Erase a company profile", responses={202: ACCEPTED_DOC, **ERRORS})
    async def delete_company(request: Request, company_id: CompanyId, principal: Publisher,
                             idempotency_key: IdempotencyKey = None):
        """Right to erasure: publishes a tombstone (null value) under the company's key."""
        return await run(request, principal, idempotency_key, lambda i: i.delete_company(principal, company_id))

    @app.get("/healthz", tags=["operations"], summary="Readiness",
             responses={200: {"description": "Ready"}, 503: {"description": "Starting"}})
    async def healthz(request: Request) -> JSONResponse:
        ingest: Ingest | None = getattr(request.app.state, "ingest", None)
        ready = bool(ingest and ingest.ready)
        return JSONResponse({"status": "ok" if ready else "starting", "entities": len(ingest.view) if ingest else 0},
                            200 if ready else 503)

    return app


def render_openapi() -> str:
    """The OpenAPI document, independent of the environment (nothing from settings is in it)."""
    return json.dumps(create_app(Settings()).openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def serve(settings: Settings) -> None:
    import uvicorn

    api = settings.api
    banner = f"matchmaker ingest API on http://{api.host}:{api.port} (Kafka {settings.bootstrap_servers})"
    if settings.log_format == "json":  # a json-format process writes nothing but log records
        log.info(banner)
    else:
        print(banner, file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings), host=api.host, port=api.port, log_level=settings.log_level.lower(),
                server_header=False, timeout_graceful_shutdown=10, log_config=None)  # log through services.logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.ingest.app", description="Serve the ingest API or export its OpenAPI.")
    parser.add_argument("--export-openapi", action="store_true", help=f"write {OPENAPI_PATH.relative_to(PROJECT_ROOT)}")
    parser.add_argument("--check", action="store_true", help="with --export-openapi: exit 1 if the file is stale")
    args = parser.parse_args(argv)
    if args.export_openapi:
        text = render_openapi()
        if args.check:
            stale = not OPENAPI_PATH.exists() or OPENAPI_PATH.read_text(encoding="utf-8") != text
            print(f"{OPENAPI_PATH.relative_to(PROJECT_ROOT)} is {'stale' if stale else 'up to date'}")
            return 1 if stale else 0
        OPENAPI_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {OPENAPI_PATH.relative_to(PROJECT_ROOT)}")
        return 0
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
