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

This module wires the app; the parts live beside it: routes/ (one router per resource), service.py (the
`Ingest` service, no HTTP), models.py (bodies), auth.py (bearer tokens), limits.py (body limits),
errors.py (domain errors → HTTP statuses).

Serve with `matchmaker api`; write the OpenAPI document with `python -m services.ingest.app --export-openapi`
(checked in as schemas/openapi.json; a unit test fails while it is stale).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import MatchmakerError
from services.ingest.errors import domain_error, method_not_allowed
from services.ingest.limits import BodyLimit
from services.ingest.routes import ROUTERS
from services.ingest.service import Ingest
from services.logs import configure_logging
from services.settings import PROJECT_ROOT, Settings

log = logging.getLogger("matchmaker.api")

OPENAPI_PATH = PROJECT_ROOT / "schemas" / "openapi.json"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the service (producer, version view) before the first request; stop it after the last."""
    ingest = Ingest(app.state.settings)
    app.state.ingest = ingest
    await run_in_threadpool(ingest.start)
    try:
        yield
    finally:
        await run_in_threadpool(ingest.stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ingest app for these settings; its service starts and stops with the app's lifespan."""
    settings = settings or Settings()
    app = FastAPI(
        title="Six Cities Matchmaker ingest API",
        version="1.0.0",
        description="Publish challenges (cities) and company profiles (companies) over HTTP. Each accepted "
        "request is validated with the same contracts as the Kafka topics, published with acks=all, and answered "
        "202 with the event's Kafka position. Bearer tokens are per publisher: a city's token writes only that "
        "city's challenges, a company's token only its own profile.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    # Starlette types a handler as taking any Exception; these take the exception class they are registered for
    app.add_exception_handler(StarletteHTTPException, method_not_allowed)  # type: ignore[arg-type]
    app.add_exception_handler(MatchmakerError, domain_error)  # type: ignore[arg-type]
    for router in ROUTERS:
        app.include_router(router)
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
    uvicorn.run(
        create_app(settings),
        host=api.host,
        port=api.port,
        log_level=settings.log_level.lower(),
        server_header=False,
        timeout_graceful_shutdown=10,
        log_config=None,
    )  # log through services.logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.ingest.app", description="Serve the ingest API or export its OpenAPI."
    )
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
