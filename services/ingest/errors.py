"""The one mapping from errors to HTTP answers: domain errors of the service, and 405 with a full Allow."""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import (
    BrokerError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    MatchmakerError,
    NotFoundError,
    NotReadyError,
)
from services.ingest.routes import allowed_methods

ERROR_STATUS: dict[type[MatchmakerError], int] = {
    InvalidInputError: 422,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    NotReadyError: 503,
    BrokerError: 503,
}


async def domain_error(request: Request, error: MatchmakerError) -> Response:
    """The one mapping from the service's errors to HTTP: 422 bodies as FastAPI's, 503 with Retry-After."""
    if isinstance(error, InvalidInputError):
        errors = error.errors or [{"type": "value_error", "loc": ("body",), "msg": str(error), "input": None}]
        return await request_validation_exception_handler(request, RequestValidationError(errors))
    status = next((code for kind, code in ERROR_STATUS.items() if isinstance(error, kind)), 500)
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse({"detail": str(error)}, status, headers=headers)


async def method_not_allowed(request: Request, error: StarletteHTTPException) -> Response:
    """405 with an Allow header listing every method of the path (Starlette lists only the first route's)."""
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    methods = allowed_methods(request.scope["path"])
    return JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"Allow": ", ".join(sorted(methods))})


__all__ = ["ERROR_STATUS", "domain_error", "method_not_allowed"]
