"""FastAPI dependencies shared by the routes: the app's one ingest service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.ingest.service import Ingest


def get_ingest(request: Request) -> Ingest:
    """The service the lifespan created and put on app.state (tests may put their own there)."""
    return request.app.state.ingest


Service = Annotated[Ingest, Depends(get_ingest)]

__all__ = ["Service", "get_ingest"]
