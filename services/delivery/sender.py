"""The HTTP side of the notifier: one signed POST of a notification, with a timeout, and what it came to.

The sender decides nothing about retries: it returns an `Outcome` (delivered / retryable /
permanent, with the error in words) and the ledger (services/delivery/ledger.py) decides what
follows. Redirects are not followed: a webhook answers where it was registered.
"""

from __future__ import annotations

import asyncio

import httpx

from services.delivery.messages import DELIVERED, PERMANENT, RETRYABLE, Outcome
from services.delivery.webhooks import signed_headers

RETRYABLE_STATUSES = frozenset({408, 425, 429})  # besides every 5xx: "try again later" answers


def classify_status(status: int) -> Outcome:
    """2xx: delivered; 5xx, 408, 425, 429: retryable; anything else (3xx, 4xx): permanent."""
    if 200 <= status < 300:
        return Outcome(DELIVERED)
    error = f"HTTP {status}"
    if status >= 500 or status in RETRYABLE_STATUSES:
        return Outcome(RETRYABLE, error)
    return Outcome(PERMANENT, error)


def classify_error(error: Exception) -> Outcome:
    """No answer: a timeout or transport error is retryable; a URL no request can reach is permanent."""
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    if isinstance(error, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return Outcome(PERMANENT, text)
    return Outcome(RETRYABLE, text)


class Sender:
    """Sends notifications over one pooled httpx client (created on first use)."""

    def __init__(self, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = timeout
        self._transport = transport  # tests pass an httpx.MockTransport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
                follow_redirects=False,
                transport=self._transport,
            )
        return self._client

    def request(self, url: str, secret: str, body: bytes, notification_id: str, kind: str) -> httpx.Request:
        """The POST, signed now: every attempt carries a fresh timestamp and the same Idempotency-Key."""
        return self.client.build_request(
            "POST", url, content=body, headers=signed_headers(secret, body, notification_id, kind)
        )

    async def send(self, url: str, secret: str, body: bytes, notification_id: str, kind: str) -> Outcome:
        """One attempt, at most `timeout` seconds in all (connect, send and response)."""
        try:
            request = self.request(url, secret, body, notification_id, kind)
            async with asyncio.timeout(self.timeout):
                response = await self.client.send(request)
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as error:
            return classify_error(error)
        return classify_status(response.status_code)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
