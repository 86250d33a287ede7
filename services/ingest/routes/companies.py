"""Routes of a company's own profile (create or replace, erase) and of its alert subscription."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi import Path as PathParam

from schemas.events import ID_MAX_LENGTH, ID_PATTERN
from services.ingest.auth import Publisher
from services.ingest.dependencies import Service
from services.ingest.models import Accepted, CompanyProfileRequest, SubscriptionRequest
from services.ingest.routes.common import WRITE_RESPONSES, IdempotencyKey, publish

COMPANY_EXAMPLE = {
    "name": "Example Oy",
    "business_id": "2617416-4",
    "description": "Indoor air sensors for schools and day-care centres.",
    "offerings": ["indoor air sensors"],
    "tags": ["indoor air", "iot"],
    "cities_of_interest": ["Espoo", "Vantaa"],
    "employees": 25,
    "languages": ["fi", "en"],
}
CompanyBody = Annotated[
    CompanyProfileRequest,
    Body(openapi_examples={"profile": {"summary": "A company profile", "value": COMPANY_EXAMPLE}}),
]
CompanyId = Annotated[
    str, PathParam(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="company_id")
]

router = APIRouter(tags=["companies"])


@router.put(
    "/v1/companies/{company_id}",
    status_code=202,
    response_model=Accepted,
    summary="Create or replace a company profile",
    responses=WRITE_RESPONSES,
)
async def put_company(
    request: Request,
    company_id: CompanyId,
    body: CompanyBody,
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Without `version` the API assigns the current version + 1; a version not above the current one gets 409."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.put_company, principal, company_id, body)
    )


@router.delete(
    "/v1/companies/{company_id}",
    status_code=202,
    response_model=Accepted,
    summary="Erase a company profile",
    responses=WRITE_RESPONSES,
)
async def delete_company(
    request: Request,
    company_id: CompanyId,
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Right to erasure: publishes a tombstone (null value) under the company's key."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.delete_company, principal, company_id)
    )


@router.put(
    "/v1/companies/{company_id}/subscription",
    status_code=202,
    response_model=Accepted,
    summary="Set the company's alert threshold",
    responses=WRITE_RESPONSES,
)
async def put_subscription(
    request: Request,
    company_id: CompanyId,
    body: Annotated[
        SubscriptionRequest,
        Body(openapi_examples={"threshold": {"summary": "Alert from score 0.5", "value": {"min_score": 0.5}}}),
    ],
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Every challenge published, changed or re-opened that scores at least `min_score` for the company is
    announced to it (a MatchResult with trigger `alert`), whether or not the challenge's shortlist holds it;
    so are the open challenges at or above it now. Alerts reach the company's inbox
    (`GET /companies/{id}/challenges`); a webhook registered by the operator is kept and receives them too."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.put_subscription, principal, company_id, body)
    )


@router.delete(
    "/v1/companies/{company_id}/subscription",
    status_code=202,
    response_model=Accepted,
    summary="Unsubscribe the company from alerts and notifications",
    responses=WRITE_RESPONSES,
)
async def delete_subscription(
    request: Request,
    company_id: CompanyId,
    principal: Publisher,
    ingest: Service,
    idempotency_key: IdempotencyKey = None,
):
    """Publishes a tombstone under the company's key on the subscriptions topic: no alerts, no webhook."""
    return await publish(
        request, ingest, principal, idempotency_key, partial(ingest.delete_subscription, principal, company_id)
    )
