"""The notifier's HTTP side (services/delivery/sender.py): answers classified against an httpx
MockTransport, and the outbound safety (policy before each attempt, checked connections, no redirects,
bounded answers) against real receivers on 127.0.0.1 with host names resolved from a table."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from services.delivery.messages import DELIVERED, PERMANENT, REFUSED, RETRYABLE, Outcome
from services.delivery.sender import MAX_RESPONSE_BYTES, GuardedBackend, Sender
from services.delivery.webhooks import verify_signature
from tests.support.webhooks import Receiver, Reply

SECRET = "0123456789abcdef-secret"
BODY = b'{"notification_id":"m-1","type":"match","matches":[]}'
URL = "https://hooks.example/co-1"
PUBLIC = "93.184.216.34"


def resolver(*answers: list[str]):
    """hooks.example (or any host) resolves to answers[0], then answers[1], ... (the last one repeats)."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def attempt(sender: Sender, url: str = URL) -> Outcome:
    async def run() -> Outcome:
        try:
            return await sender.send(url, SECRET, BODY, "m-1", "match")
        finally:
            await sender.aclose()

    return asyncio.run(run())


def send(handler, timeout: float = 5.0, resolve=None) -> tuple[Outcome, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await handler(request)

    sender = Sender(timeout, transport=httpx.MockTransport(record), resolve=resolve or resolver([PUBLIC]))
    return attempt(sender), seen


def answer(status: int):
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": "https://elsewhere.example/"} if 300 <= status < 400 else {})

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
    assert outcome.error.startswith(f"HTTP {status}") if kind != DELIVERED else outcome.error == ""
    assert len(requests) == 1  # one attempt, redirects not followed


def test_a_redirect_is_a_failed_attempt_that_says_so():
    outcome, requests = send(answer(302))
    assert outcome == Outcome(PERMANENT, "HTTP 302: redirect to https://elsewhere.example/ not followed")
    assert len(requests) == 1


def test_the_request_is_a_signed_post_of_the_body():
    outcome, (request,) = send(answer(200))
    assert outcome == Outcome(DELIVERED)
    assert request.method == "POST" and str(request.url) == URL and request.content == BODY
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


def test_a_large_answer_is_read_only_up_to_the_limit():
    pulled: list[int] = []

    async def endless():
        while True:
            pulled.append(8192)
            yield b"x" * 8192

    async def flood(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    outcome, _ = send(flood)
    assert outcome == Outcome(DELIVERED)
    assert MAX_RESPONSE_BYTES <= sum(pulled) <= MAX_RESPONSE_BYTES + 8192


# -- the outbound policy, before every attempt --------------------------------------------------------
def test_a_host_resolving_to_a_private_address_is_refused_without_a_request():
    outcome, requests = send(answer(200), resolve=resolver(["10.1.2.3"]))
    assert outcome.kind == REFUSED and requests == []
    assert "hooks.example resolves to 10.1.2.3, a private address" in outcome.error


def test_a_url_that_is_not_https_is_refused():
    outcome = attempt(Sender(1.0, transport=httpx.MockTransport(answer(200)), resolve=resolver([PUBLIC])), "ftp://x/")
    assert outcome.kind == REFUSED and "https" in outcome.error
    outcome = attempt(Sender(1.0, resolve=resolver([PUBLIC])), "http://hooks.example/co-1")
    assert outcome.kind == REFUSED and "must be https" in outcome.error


def test_a_host_that_does_not_resolve_is_retryable():
    def nowhere(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    outcome, requests = send(answer(200), resolve=nowhere)
    assert outcome.kind == RETRYABLE and "Name or service not known" in outcome.error and requests == []


# -- real receivers: the connection goes only where the policy allows ----------------------------------
@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(behaviour=lambda n: 200) -> Receiver:
        made.append(Receiver(behaviour))
        return made[-1]

    yield make
    for r in made:
        r.close()


def local_url(hook: Receiver, host: str = "hooks.example", scheme: str = "http") -> str:
    return f"{scheme}://{host}:{hook.server.server_address[1]}/hook"


def test_a_host_name_is_connected_to_the_address_it_was_checked_for(receiver):
    hook = receiver()
    resolve = resolver(["127.0.0.1"])
    outcome = attempt(Sender(5.0, allow_loopback=True, resolve=resolve), local_url(hook))
    assert outcome == Outcome(DELIVERED)
    (request,) = hook.requests
    assert request.headers["host"] == f"hooks.example:{hook.server.server_address[1]}"
    assert resolve.calls == ["hooks.example", "hooks.example"]  # the policy check, then the connection's own


def test_loopback_without_the_development_setting_gets_no_request(receiver):
    hook = receiver()
    outcome = attempt(Sender(5.0, resolve=resolver(["127.0.0.1"])), local_url(hook, scheme="https"))
    assert outcome.kind == REFUSED and "loopback" in outcome.error and hook.requests == []


def test_a_dns_answer_that_changes_after_the_check_is_refused_at_connect(receiver):
    hook = receiver()
    rebinding = resolver([PUBLIC], ["127.0.0.1"])  # public for the policy check, loopback for the connection
    outcome = attempt(Sender(5.0, resolve=rebinding), local_url(hook, scheme="https"))
    assert outcome.kind == REFUSED and "resolves to 127.0.0.1, a loopback address" in outcome.error
    assert hook.requests == []


def test_a_redirect_is_not_followed(receiver):
    target = receiver()
    hook = receiver(lambda n: Reply(307, {"Location": target.url}))
    outcome = attempt(Sender(5.0, allow_loopback=True), hook.url)
    assert outcome == Outcome(PERMANENT, f"HTTP 307: redirect to {target.url} not followed")
    assert len(hook.requests) == 1 and target.requests == []


def test_an_endless_answer_is_cut_and_counts_only_by_its_status(receiver):
    hook = receiver(lambda n: Reply(200, endless=True))
    outcome = attempt(Sender(5.0, allow_loopback=True), hook.url)  # reading it all would time out
    assert outcome == Outcome(DELIVERED)
    assert len(hook.requests) == 1


def test_the_checked_connection_is_the_senders_own():
    sender = Sender(1.0, allow_loopback=True)
    pool = sender.client._transport._pool  # what guarded_transport installed
    assert isinstance(pool._network_backend, GuardedBackend) and pool._network_backend.allow_loopback
