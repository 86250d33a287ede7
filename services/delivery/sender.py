"""The HTTP side of the notifier: one signed POST of a notification, with a timeout, and what it came to.

The sender decides nothing about retries: it returns an `Outcome` (delivered / retryable /
permanent / refused, with the error in words) and the ledger (services/delivery/ledger.py) decides
what follows.

Outbound safety (services/delivery/outbound.py holds the policy): before every attempt the URL is
checked and its host resolved; a refused destination comes back REFUSED without a request. The
connections themselves go through `GuardedBackend`, which resolves and checks again and connects only
to the addresses it checked, so a DNS answer that changes in between (rebinding) cannot reach an
internal address either. The notifier connects directly: HTTP(S)_PROXY variables are not used.
Redirects are not followed (a webhook answers where it was registered; a 3xx is a failed attempt),
and at most MAX_RESPONSE_BYTES of an answer are read: only its status counts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import typing

import httpcore
import httpx

from services.delivery import outbound
from services.delivery.messages import DELIVERED, PERMANENT, REFUSED, RETRYABLE, Outcome
from services.delivery.webhooks import signed_headers
from services.errors import RefusedDestination

RETRYABLE_STATUSES = frozenset({408, 425, 429})  # besides every 5xx: "try again later" answers
MAX_RESPONSE_BYTES = 64 * 1024  # of a webhook's answer, read and dropped; the rest is not downloaded


def classify_status(status: int, location: str | None = None) -> Outcome:
    """2xx: delivered; 5xx, 408, 425, 429: retryable; anything else (3xx, 4xx): permanent."""
    if 200 <= status < 300:
        return Outcome(DELIVERED)
    error = f"HTTP {status}"
    if status >= 500 or status in RETRYABLE_STATUSES:
        return Outcome(RETRYABLE, error)
    if 300 <= status < 400:
        return Outcome(PERMANENT, f"{error}: redirect to {location or '(no Location)'} not followed")
    return Outcome(PERMANENT, error)


def classify_error(error: Exception) -> Outcome:
    """No answer: a timeout or transport error is retryable; a URL no request can reach is permanent."""
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    if isinstance(error, RefusedDestination):
        return Outcome(REFUSED, str(error))
    if isinstance(error, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return Outcome(PERMANENT, text)
    return Outcome(RETRYABLE, text)


class GuardedBackend(httpcore.AnyIOBackend):
    """httpcore's network backend, connecting only to addresses the outbound policy allows.

    httpcore hands it the URL's host; TLS still verifies that host name (SNI), not the address.
    """

    def __init__(self, allow_loopback: bool, resolve: outbound.Resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            found = await asyncio.to_thread(self.resolve, host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = [ipaddress.ip_address(a) for a in found]
        outbound.check_addresses(host, addresses, self.allow_loopback)
        failure: Exception = httpcore.ConnectError(f"{host} resolved to no address")
        for address in addresses:  # each checked address in turn, as a resolver-following connect would
            try:
                return await super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure


def guarded_transport(limits: httpx.Limits, backend: GuardedBackend) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool on `backend` (httpx has no parameter for that)."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport


class Sender:
    """Sends notifications over one pooled httpx client (created on first use).

    `allow_loopback` is MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP; tests pass a `resolve` table instead of
    DNS, or an httpx.MockTransport as `transport` (the URL is still checked before each attempt).
    """

    def __init__(
        self,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_loopback: bool = False,
        resolve: outbound.Resolver = outbound.system_resolver,
    ) -> None:
        self.timeout = timeout
        self.allow_loopback = allow_loopback
        self.resolve = resolve
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
            transport = self._transport
            if transport is None:
                transport = guarded_transport(limits, GuardedBackend(self.allow_loopback, self.resolve))
            self._client = httpx.AsyncClient(
                timeout=self.timeout, limits=limits, follow_redirects=False, transport=transport
            )
        return self._client

    def request(self, url: str, secret: str, body: bytes, notification_id: str, kind: str) -> httpx.Request:
        """The POST, signed now: every attempt carries a fresh timestamp and the same Idempotency-Key."""
        return self.client.build_request(
            "POST", url, content=body, headers=signed_headers(secret, body, notification_id, kind)
        )

    async def send(self, url: str, secret: str, body: bytes, notification_id: str, kind: str) -> Outcome:
        """One attempt, at most `timeout` seconds in all (policy check and DNS, connect, send, response)."""
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.to_thread(outbound.check_url, url, self.allow_loopback, self.resolve)
                request = self.request(url, secret, body, notification_id, kind)
                response = await self.client.send(request, stream=True)
                try:
                    await _read_some(response, MAX_RESPONSE_BYTES)
                finally:
                    await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL, OSError, RefusedDestination) as error:
            return classify_error(error)  # OSError: DNS failed; TimeoutError is one too
        return classify_status(response.status_code, response.headers.get("location"))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _read_some(response: httpx.Response, limit: int) -> None:
    """Read (and drop) the raw answer up to about `limit` bytes: a receiver cannot make the notifier
    download (or decompress) an endless body. Closing with more left closes the connection."""
    if response.is_stream_consumed:  # an answer built in memory (httpx.MockTransport): nothing to read
        return
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            break
