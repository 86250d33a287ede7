"""Webhook signatures: how the notifier signs a notification and how a receiver verifies it.

Every POST carries

    X-Matchmaker-Timestamp: 1767225600
    X-Matchmaker-Signature: sha256=<hex HMAC-SHA256(secret, b"1767225600." + raw_body)>
    Idempotency-Key: <notification_id>

A receiver recomputes the HMAC over the *raw* body bytes (before any JSON parsing), compares in
constant time and refuses timestamps older than a few minutes (replay protection):

    from services.delivery.webhooks import verify_signature
    ok = verify_signature(secret, raw_body, headers["X-Matchmaker-Timestamp"], headers["X-Matchmaker-Signature"])

The function has no dependency beyond the standard library: receivers may copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Matchmaker-Signature"
TIMESTAMP_HEADER = "X-Matchmaker-Timestamp"
EVENT_HEADER = "X-Matchmaker-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "sha256"
DEFAULT_TOLERANCE = 300.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def signed_headers(
    secret: str, body: bytes, idempotency_key: str, event: str, now: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "six-cities-matchmaker-notifier/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: idempotency_key,
        EVENT_HEADER: event,
    }


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when `signature` is the notifier's signature of `body` at `timestamp` and the timestamp is
    within `tolerance` seconds of now. Never raises on malformed input: it returns False."""
    if not timestamp or not signature:
        return False
    if not timestamp.strip().isascii():
        return False
    try:
        sent = int(timestamp.strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    expected = sign(secret, timestamp.strip(), body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", errors="replace"))
