"""HTTP details of the ingest API that need no broker: body limits, content types, Allow, settings."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from services.ingest.limits import BodyLimit


def echo_app(limit: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request):
        return {"size": len(await request.body())}

    app.add_middleware(BodyLimit, max_bytes=limit)
    return app


@pytest.fixture
def client():
    transport = httpx.ASGITransport(app=echo_app(100))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def run(coro):
    import asyncio

    return asyncio.run(coro)


def test_body_within_the_limit_passes(client):
    response = run(
        client.post("/echo", content=b'{"a": "' + b"x" * 80 + b'"}', headers={"content-type": "application/json"})
    )
    assert response.status_code == 200 and response.json() == {"size": 89}


def test_declared_length_over_the_limit_is_413(client):
    response = run(client.post("/echo", content=b"{}" + b" " * 200, headers={"content-type": "application/json"}))
    assert response.status_code == 413 and "100 bytes" in response.json()["detail"]


def test_streamed_body_without_length_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(20):
            yield b" " * 10

    response = run(client.post("/echo", content=chunks(), headers={"content-type": "application/json"}))
    assert response.status_code == 413


def test_non_json_body_is_415_and_undecodable_json_is_422(client):
    assert run(client.post("/echo", content=b"a=1", headers={"content-type": "text/plain"})).status_code == 415
    response = run(client.post("/echo", content=b"\xff\xfe", headers={"content-type": "application/json"}))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]
    deep = run(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=echo_app(100_000)), base_url="http://t").post(
            "/echo", content=b"[" * 50_000, headers={"content-type": "application/json"}
        )
    )
    assert deep.status_code == 422


def test_api_settings_come_from_their_own_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHMAKER_API_PORT", "9999")
    monkeypatch.setenv("MATCHMAKER_API_MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    from services.settings import Settings

    settings = Settings()
    api = settings.api
    assert (api.port, api.max_body_bytes, api.idempotency_ttl_seconds) == (9999, 1234, 86_400.0)
    assert api.tokens_path(settings.home) == tmp_path / "api-tokens.json"


def test_405_lists_every_method_of_the_path():
    from services.ingest.app import create_app
    from services.settings import Settings

    app = create_app(Settings())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    response = run(client.patch("/v1/companies/co-1"))
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, PUT"


def test_service_errors_map_to_their_status_and_body():
    """One handler: each domain error of the ingest service becomes the status and body clients rely on."""
    from services.errors import (
        BrokerError,
        ConflictError,
        ForbiddenError,
        InvalidInputError,
        MatchmakerError,
        NotFoundError,
        NotReadyError,
    )
    from services.ingest.errors import domain_error

    raised = {
        "conflict": ConflictError("version 1 of challenge 'c' is not newer than its current version 2"),
        "forbidden": ForbiddenError("a token of city Espoo may not publish challenges"),
        "missing": NotFoundError("no challenge 'c'"),
        "starting": NotReadyError("the API is starting: reading the current versions from Kafka"),
        "broker": BrokerError("the broker did not acknowledge the event (KafkaTimeoutError); retry"),
        "field": InvalidInputError(
            "must equal the id in the path (c)",
            errors=[
                {
                    "type": "value_error",
                    "loc": ("body", "challenge_id"),
                    "msg": "must equal the id in the path (c)",
                    "input": "d",
                }
            ],
        ),
    }
    app = FastAPI()
    app.add_exception_handler(MatchmakerError, domain_error)

    @app.get("/{name}")
    async def fail(name: str):
        raise raised[name]

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    expected = {"conflict": 409, "forbidden": 403, "missing": 404, "starting": 503, "broker": 503, "field": 422}
    for name, status in expected.items():
        response = run(client.get(f"/{name}"))
        assert response.status_code == status, name
        if status == 422:
            assert response.json() == {
                "detail": [
                    {
                        "type": "value_error",
                        "loc": ["body", "challenge_id"],
                        "msg": "must equal the id in the path (c)",
                        "input": "d",
                    }
                ]
            }
        else:
            assert response.json() == {"detail": str(raised[name])}
        assert response.headers.get("retry-after") == ("5" if status == 503 else None)
