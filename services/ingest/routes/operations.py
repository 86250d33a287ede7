"""Routes for operators and load balancers: readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.ingest.service import Ingest

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", summary="Readiness", responses={200: {"description": "Ready"}, 503: {"description": "Starting"}}
)
async def healthz(request: Request) -> JSONResponse:
    ingest: Ingest | None = getattr(request.app.state, "ingest", None)  # absent until the lifespan has started
    ready = bool(ingest and ingest.ready)
    return JSONResponse(
        {"status": "ok" if ready else "starting", "entities": len(ingest.view) if ingest else 0}, 200 if ready else 503
    )
