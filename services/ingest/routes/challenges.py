"""Routes of a city's challenges: create, create or replace, close."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi import Path as PathParam

from schemas.events import ID_MAX_LENGTH, ID_PATTERN
from services.ingest.auth import Publisher
from services.ingest.dependencies import Service
from services.ingest.models import Accepted, ChallengeRequest, Problem
from services.ingest.routes.common import (
    ACCEPTED_DOC,
    ERRORS,
    WRITE_RESPONSES,
    IdempotencyKey,
    publish,
)

CHALLENGE_EXAMPLE = {
    "challenge_id": "ch-esp-101",
    "city": "Espoo",
    "language": "en",
    "title": "Quieter school yards",
    "description": "Reduce traffic noise in school yards with barriers, planting or smarter traffic rules.",
    "tags": ["noise", "schools"],
    "deadline": "2027-06-30",
    "budget_eur": 40000,
}
ChallengeBody = Annotated[
    ChallengeRequest, Body(openapi_examples={"espoo": {"summary": "An Espoo challenge", "value": CHALLENGE_EXAMPLE}})
]
ChallengeId = Annotated[
    str, PathParam(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="challenge_id")
]

router = APIRouter(tags=["challenges"])


@router.post(
    "/v1/challenges", status_code=202, response_model=Accepted, summary="Create a challenge", responses=WRITE_RESPONSES
)
async def create_challenge(
    request: Request, body: ChallengeBody, principal: Publisher, ingest: Service, idempotency_key: IdempotencyKey = None
):
    """Without `challenge_id` the API assigns one (`ch-<city>-<random>`); an existing id gets 409."""
    return await publish(request, ingest, principal, idempotency_key, partial(ingest.create_challenge, principal, body))


@router.put(
    "/v1/challenges/{challenge_id}",
    status_code=202,
    response_model=Accepted,
    summary="Create or replace a challenge",
    responses=WRITE_RESPONSES,
)
async def put_challenge(
    request: Request,
    challenge_id: ChallengeId,
    body: ChallengeBody,
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Without `version` the API assigns the current version + 1; a version not above the current one gets 409."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.put_challenge, principal, challenge_id, body)
    )


@router.post(
    "/v1/challenges/{challenge_id}/close",
    status_code=202,
    response_model=Accepted,
    summary="Close a challenge",
    responses={
        202: ACCEPTED_DOC,
        200: {"model": Accepted, "description": "Already closed: nothing published."},
        404: {"model": Problem, "description": "No such challenge."},
        **ERRORS,
    },
)
async def close_challenge(
    request: Request,
    challenge_id: ChallengeId,
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Publishes the current challenge with status `closed` and version + 1."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.close_challenge, principal, challenge_id)
    )
