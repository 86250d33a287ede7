"""Webhook signatures and the delivery-side contracts (no broker)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas import InboxToken, Subscription
from services.bearer import hash_token
from services.delivery.sealing import Sealer, generate_key
from services.delivery.subscriptions import new_token
from services.delivery.webhooks import sign, signed_headers, verify_signature
from tests.support import PROJECT_ROOT

SECRET = "0123456789abcdef-secret"
BODY = b'{"notification_id":"abc","type":"match","matches":[]}'


def test_signed_headers_verify():
    headers = signed_headers(SECRET, BODY, "abc", "match", now=1_800_000_000)
    assert headers["Idempotency-Key"] == "abc" and headers["X-Matchmaker-Timestamp"] == "1800000000"
    assert headers["X-Matchmaker-Signature"] == sign(SECRET, "1800000000", BODY)
    assert verify_signature(SECRET, BODY, "1800000000", headers["X-Matchmaker-Signature"], now=1_800_000_100)


@pytest.mark.parametrize(
    "body, timestamp, signature_of, now",
    [
        (BODY + b" ", "1800000000", BODY, 1_800_000_000),  # tampered body
        (BODY, "1800000001", BODY, 1_800_000_000),  # timestamp changed
        (BODY, "1800000000", BODY, 1_800_001_000),  # too old (replay)
        (BODY, "not-a-number", BODY, 1_800_000_000),
        (BODY, "", BODY, 1_800_000_000),
    ],
)
def test_verification_refuses(body, timestamp, signature_of, now):
    signature = sign(SECRET, "1800000000", signature_of)
    assert not verify_signature(SECRET, body, timestamp, signature, now=now)


def test_wrong_secret_or_malformed_signature_is_refused():
    signature = sign(SECRET, "1800000000", BODY)
    assert not verify_signature("another-secret-xyz", BODY, "1800000000", signature, now=1_800_000_000)
    assert not verify_signature(SECRET, BODY, "1800000000", "sha256=00", now=1_800_000_000)
    assert not verify_signature(SECRET, BODY, "1800000000", None, now=1_800_000_000)
    assert not verify_signature(SECRET, BODY, "١٨٠٠٠٠٠٠٠٠", signature, now=1_800_000_000)


def test_subscription_contract():
    sealed = Sealer([generate_key()]).seal("co-1", "https://example.fi/hook", SECRET)
    sub = Subscription(
        company_id="co-1", url="https://example.fi/hook", sealed_secret=sealed, min_score=0.4, delivery="digest"
    )
    assert sub.delivery == "digest" and sub.url == "https://example.fi/hook"
    for bad in (
        {"url": "ftp://example.fi"},
        {"sealed_secret": SECRET},  # a plain secret is not a sealed one
        {"sealed_secret": sealed + "!"},
        {"min_score": 1.5},
        {"delivery": "weekly"},
        {"company_id": "bad id"},
    ):
        with pytest.raises(ValidationError):
            Subscription.model_validate(
                {"company_id": "co-1", "url": "https://example.fi/hook", "sealed_secret": sealed, **bad}
            )


def test_a_record_of_the_old_contract_with_a_plain_secret_is_refused():
    """Before sealing, records carried `secret` in the clear: the notifier must not take them."""
    with pytest.raises(ValidationError, match="sealed_secret"):
        Subscription.model_validate_json(
            json.dumps({"company_id": "co-1", "url": "https://example.fi/hook", "secret": SECRET})
        )


def test_tokens_are_random_and_only_their_hash_is_published():
    token = new_token()
    assert token.startswith("mmi_") and token != new_token() and len(token) > 40
    record = InboxToken(company_id="co-1", token_sha256=hash_token(token))
    assert token not in record.model_dump_json()
    with pytest.raises(ValidationError):
        InboxToken(company_id="co-1", token_sha256="plain-token")


def test_the_documented_receiver_snippet_agrees():
    """The companies' guide shows receivers how to verify: that snippet must accept and refuse as we do."""
    import re
    import time

    doc = (PROJECT_ROOT / "docs" / "companies.md").read_text(encoding="utf-8")
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", doc, re.S) if "def verify(" in block)
    namespace: dict = {}
    exec(snippet, namespace)  # our own documentation
    headers = signed_headers(SECRET, BODY, "abc", "match")
    timestamp, signature = headers["X-Matchmaker-Timestamp"], headers["X-Matchmaker-Signature"]
    assert namespace["verify"](SECRET, BODY, timestamp, signature)
    assert not namespace["verify"](SECRET, BODY + b"x", timestamp, signature)  # body altered
    assert not namespace["verify"](SECRET, BODY, str(int(timestamp) + 1), signature)  # timestamp altered
    forged = signed_headers("another-secret-0123456789", BODY, "abc", "match")  # signed with another secret
    assert not namespace["verify"](SECRET, BODY, forged["X-Matchmaker-Timestamp"], forged["X-Matchmaker-Signature"])
    assert not namespace["verify"](SECRET, BODY, timestamp, "sha256=" + "0" * 64)
    assert not namespace["verify"](
        SECRET, BODY, str(int(time.time()) - 3600), sign(SECRET, str(int(time.time()) - 3600), BODY)
    )
