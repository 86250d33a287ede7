"""What every write route shares: its documented answers, the Idempotency-Key header, and how it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services.ingest.models import Accepted, Problem
from services.ingest.service import Ingest
from services.ingest.tokens import Principal

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The token's publisher may not write this entity."},
    409: {
        "model": Problem,
        "description": "Version not newer than the current one, entity exists (POST), or "
        "a request with the same Idempotency-Key is still in flight.",
    },
    413: {"model": Problem, "description": "Request body larger than MATCHMAKER_API_MAX_BODY_BYTES (default 65536)."},
    415: {"model": Problem, "description": "A body with a Content-Type other than application/json."},
    503: {"model": Problem, "description": "The broker did not acknowledge, or the API is still starting. Retry."},
}
REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string"},
    }
}
ACCEPTED_DOC = {"description": "Published and acknowledged by all in-sync replicas.", "headers": REPLAY_HEADER}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {202: ACCEPTED_DOC, **ERRORS}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Optional, unique per logical request: a repeat gets the first answer and publishes nothing "
        "(kept 24 h by default).",
    ),
]


async def publish(
    request: Request,
    ingest: Ingest,
    principal: Principal,
    idempotency_key: str | None,
    action: Callable[[], tuple[int, Accepted]],
) -> JSONResponse:
    """Run one write in the threadpool (it waits for Kafka) and answer it; a replay says so in a header."""
    body = await request.body()
    answer = await run_in_threadpool(
        ingest.write, principal, idempotency_key, request.method, request.url.path, body, action
    )
    headers = None if answer.replayed is None else {"Idempotent-Replayed": "true" if answer.replayed else "false"}
    return JSONResponse(answer.body, answer.status, headers=headers)


__all__ = ["ACCEPTED_DOC", "ERRORS", "WRITE_RESPONSES", "IdempotencyKey", "publish"]
