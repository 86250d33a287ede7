"""The notifier's HTTP side (services/delivery/sender.py) against an httpx MockTransport: no network."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.delivery.messages import DELIVERED, PERMANENT, RETRYABLE, Outcome
from services.delivery.sender import Sender
from services.delivery.webhooks import verify_signature

SECRET = "0123456789abcdef-secret"
BODY = b'{"notification_id":"m-1","type":"match","matches":[]}'


def send(handler, timeout: float = 5.0) -> tuple[Outcome, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await handler(request)

    async def run() -> Outcome:
        sender = Sender(timeout, transport=httpx.MockTransport(record))
        try:
            return await sender.send("http://hooks.example/co-1", SECRET, BODY, "m-1", "match")
        finally:
            await sender.aclose()

    return asyncio.run(run()), seen


def answer(status: int):
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": "http://elsewhere.example/"} if 300 <= status < 400 else {})

    return handler


@pytest.mark.parametrize(
    "status, kind",
    [
        (200, DELIVERED),
        (204, DELIVERED),
        (500, RETRYABLE),
        (503, RETRYABLE),
        (429, RETRYABLE),
        (408, RETRYABLE),
        (404, PERMANENT),
        (410, PERMANENT),
        (400, PERMANENT),
        (301, PERMANENT),
    ],
)
def test_answers_are_classified(status, kind):
    outcome, requests = send(answer(status))
    assert outcome.kind == kind
    assert outcome.error == ("" if kind == DELIVERED else f"HTTP {status}")
    assert len(requests) == 1  # one attempt, redirects not followed


def test_the_request_is_a_signed_post_of_the_body():
    outcome, (request,) = send(answer(200))
    assert outcome == Outcome(DELIVERED)
    assert request.method == "POST" and str(request.url) == "http://hooks.example/co-1" and request.content == BODY
    headers = request.headers
    assert headers["idempotency-key"] == "m-1" and headers["x-matchmaker-event"] == "match"
    assert headers["content-type"] == "application/json"
    assert verify_signature(SECRET, BODY, headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"])


def test_a_transport_error_is_retryable():
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    outcome, _ = send(refuse)
    assert outcome == Outcome(RETRYABLE, "ConnectError: connection refused")


def test_a_receiver_slower_than_the_timeout_is_retryable():
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    outcome, _ = send(hang, timeout=0.1)
    assert outcome.kind == RETRYABLE and "Timeout" in outcome.error


def test_an_unreachable_url_scheme_is_permanent():
    async def run() -> Outcome:
        sender = Sender(1.0, transport=None)
        try:
            return await sender.send("ftp://hooks.example/co-1", SECRET, BODY, "m-1", "match")
        finally:
            await sender.aclose()

    outcome = asyncio.run(run())
    assert outcome.kind == PERMANENT and "UnsupportedProtocol" in outcome.error
