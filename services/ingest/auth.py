"""Bearer authentication of the ingest API: a publisher token (services/ingest/tokens.py) → its Principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.ingest.dependencies import Service
from services.ingest.tokens import Principal

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PublisherToken",
    description="A publisher token from `matchmaker api-token issue --city CITY | --company ID`.",
)


def authenticate(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], ingest: Service
) -> Principal:
    """401 with WWW-Authenticate for a missing, unknown or revoked token; what it may write is the service's check."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge)
    principal = ingest.tokens.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", headers=challenge)
    return principal


Publisher = Annotated[Principal, Depends(authenticate)]

__all__ = ["Publisher", "authenticate", "bearer"]
