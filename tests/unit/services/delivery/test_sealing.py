"""Webhook secrets at rest: sealing, the key file, rotation, and what the notifier does with a bad seal."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat

import httpx
import pytest
from cryptography.fernet import Fernet

import services.delivery.subscriptions as subscriptions
from schemas import Subscription
from services.delivery.keyfile import KeyFile, add_key, create_key_file, load_sealer, read_keys
from services.delivery.ledger import Send
from services.delivery.messages import DELIVERED, PERMANENT
from services.delivery.notifier import signed_attempt
from services.delivery.sealing import Sealer, UnsealError, check_secret, generate_key
from services.delivery.sender import Sender
from services.delivery.subscriptions import sealed_subscription
from services.delivery.webhooks import verify_signature
from services.errors import ConfigurationError, InvalidInputError
from services.settings import Settings

SECRET = "whsec-0123456789abcdef-XYZ"
URL = "https://example.fi/hook"


def traces(secret: str) -> list[str]:
    """The secret as it could show up in a record: plain, hex, base64 (standard and url-safe)."""
    raw = secret.encode()
    return [secret, raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")]


def test_seal_then_unseal_gives_the_secret_back():
    sealer = Sealer([generate_key()])
    sealed = sealer.seal("co-1", URL, SECRET)
    assert sealer.unseal("co-1", URL, sealed) == SECRET
    assert sealer.seal("co-1", URL, SECRET) != sealed  # a fresh IV each time: equal secrets do not show as equal


def test_the_record_on_the_topic_holds_no_trace_of_the_secret():
    subscription = sealed_subscription(Sealer([generate_key()]), "co-1", URL, SECRET, min_score=0.4)
    record = subscription.model_dump_json()
    assert "secret" not in Subscription.model_fields
    for trace in traces(SECRET):
        assert trace not in record
    assert Subscription.model_validate_json(record) == subscription  # the contract reads its own record


def tamper(sealed: str, position: int) -> str:
    """One base64 character changed (not the last one, whose low bits may be padding)."""
    return sealed[:position] + ("A" if sealed[position] != "A" else "B") + sealed[position + 1 :]


@pytest.mark.parametrize("position", [0, 5, 20, 60, -10])  # version, timestamp, IV, ciphertext, MAC
def test_a_tampered_token_is_refused(position):
    sealer = Sealer([generate_key()])
    sealed = sealer.seal("co-1", URL, SECRET)
    with pytest.raises(UnsealError) as refused:
        sealer.unseal("co-1", URL, tamper(sealed, position % len(sealed)))
    assert SECRET not in str(refused.value)


def test_another_key_or_another_company_is_refused():
    sealed = Sealer([generate_key()]).seal("co-1", URL, SECRET)
    with pytest.raises(UnsealError, match="another key"):
        Sealer([generate_key()]).unseal("co-1", URL, sealed)
    mine = Sealer([generate_key()])
    with pytest.raises(UnsealError, match="another company"):
        mine.unseal("co-2", URL, mine.seal("co-1", URL, SECRET))  # co-1's sealed secret copied into co-2's record
    for junk in ("not-a-token", "é" * 120, ""):
        with pytest.raises(UnsealError):
            mine.unseal("co-1", URL, junk)


def test_a_sealed_secret_moved_to_another_url_is_refused():
    """Whoever may write subscriptions (the API sets alert thresholds there) cannot re-point a webhook."""
    sealer = Sealer([generate_key()])
    sealed = sealer.seal("co-1", URL, SECRET)
    with pytest.raises(UnsealError, match="another webhook URL") as refused:
        sealer.unseal("co-1", "https://attacker.example/collect", sealed)
    assert SECRET not in str(refused.value)


def test_a_secret_sealed_without_its_url_is_refused_with_what_to_do():
    key = generate_key()
    legacy = Fernet(key).encrypt(json.dumps({"company_id": "co-1", "secret": SECRET}).encode()).decode()
    with pytest.raises(UnsealError, match="subscribe again"):
        Sealer([key]).unseal("co-1", URL, legacy)


@pytest.mark.parametrize("secret", ["short", "x" * 257, "sixteen-chars-ok\nsecond line", "tab\tin-the-middle-xx"])
def test_secrets_outside_the_rule_are_refused_without_being_repeated(secret):
    with pytest.raises(InvalidInputError) as refused:
        check_secret(secret)
    assert secret not in str(refused.value)
    with pytest.raises(InvalidInputError):
        sealed_subscription(Sealer([generate_key()]), "co-1", URL, secret)


def test_a_bad_url_is_refused_and_the_message_holds_no_secret():
    with pytest.raises(InvalidInputError) as refused:
        sealed_subscription(Sealer([generate_key()]), "co-1", "ftp://example.fi", SECRET)
    assert all(trace not in str(refused.value) for trace in traces(SECRET))


def test_the_key_file_is_created_once_private_and_never_overwritten(tmp_path):
    path = tmp_path / "security" / "subscriptions.key"
    assert create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = read_keys(path)
    assert len(first) == 1 and not create_key_file(path) and read_keys(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["subscriptions.key"]  # no temporary file left


def test_a_missing_empty_or_malformed_key_file_is_a_clear_error(tmp_path):
    path = tmp_path / "subscriptions.key"
    with pytest.raises(ConfigurationError, match="no subscriptions key at"):
        read_keys(path)
    path.write_text("# only a comment\n\n")
    with pytest.raises(ConfigurationError, match="holds no subscriptions key"):
        read_keys(path)
    path.write_text(f"{generate_key().decode()}\nnot-a-key-but-maybe-a-secret\n")
    with pytest.raises(ConfigurationError, match="line 2 of") as refused:
        read_keys(path)
    assert "not-a-key-but-maybe-a-secret" not in str(refused.value)


def test_rotation_old_records_still_unseal_and_reseal_moves_them_to_the_new_key(tmp_path):
    path = tmp_path / "subscriptions.key"
    create_key_file(path)
    (old_key,) = read_keys(path)
    sealed_before = load_sealer(path).seal("co-1", URL, SECRET)

    assert add_key(path) == 2
    keys = read_keys(path)
    assert keys[1] == old_key and keys[0] != old_key  # the new key first: it seals from now on
    assert path.read_text().startswith("# Six Cities Matchmaker")  # the comments stay
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = load_sealer(path)
    assert after.unseal("co-1", URL, sealed_before) == SECRET  # sealed with the old key, still opens
    sealed_after = after.seal("co-1", URL, SECRET)
    with pytest.raises(UnsealError):
        Sealer([old_key]).unseal("co-1", URL, sealed_after)

    resealed = after.reseal(sealed_before)
    assert Sealer([keys[0]]).unseal("co-1", URL, resealed) == SECRET  # the old key can go now
    with pytest.raises(UnsealError):
        Sealer([generate_key()]).reseal(sealed_before)


def test_the_notifier_s_key_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "subscriptions.key"
    keys = KeyFile(path)
    with pytest.raises(ConfigurationError):
        keys.sealer()  # not there yet: an error, not a crash, and tried again next time
    create_key_file(path)
    sealed = keys.sealer().seal("co-1", URL, SECRET)
    assert keys.sealer() is keys.sealer()  # unchanged file: not read again
    other = generate_key().decode()
    path.write_text(other + "\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(UnsealError):
        keys.sealer().unseal("co-1", URL, sealed)


def attempt(keys: KeyFile, subscription: Subscription) -> tuple[str, str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async def run():
        sender = Sender(5.0, transport=httpx.MockTransport(handler), resolve=lambda host, port: ["93.184.215.14"])
        try:
            job = Send("m-1", "match", subscription.company_id, 0, ("m-1",))
            return await signed_attempt(keys, sender, subscription, b'{"x":1}', job)
        finally:
            await sender.aclose()

    outcome = asyncio.run(run())
    return outcome.kind, outcome.error, seen


def test_the_notifier_signs_with_the_unsealed_secret(tmp_path):
    path = tmp_path / "subscriptions.key"
    create_key_file(path)
    subscription = sealed_subscription(load_sealer(path), "co-1", URL, SECRET)
    kind, _, requests = attempt(KeyFile(path), subscription)
    assert kind == DELIVERED and len(requests) == 1
    headers = requests[0].headers
    assert verify_signature(SECRET, b'{"x":1}', headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"])
    assert all(trace not in str(dict(headers)) for trace in traces(SECRET))


def test_a_record_the_notifier_cannot_unseal_fails_the_attempt_without_a_request(tmp_path, caplog):
    path = tmp_path / "subscriptions.key"
    create_key_file(path)
    foreign = sealed_subscription(Sealer([generate_key()]), "co-1", URL, SECRET)  # sealed with another key
    kind, error, requests = attempt(KeyFile(path), foreign)
    assert (kind, requests) == (PERMANENT, []) and "not unsealed" in error
    assert "cannot sign m-1 for co-1" in caplog.text and SECRET not in caplog.text

    mine = sealed_subscription(load_sealer(path), "co-1", URL, SECRET)
    tampered = mine.model_copy(update={"sealed_secret": tamper(mine.sealed_secret, 60)})
    assert attempt(KeyFile(path), tampered)[::2] == (PERMANENT, [])
    assert attempt(KeyFile(tmp_path / "missing.key"), foreign)[::2] == (PERMANENT, [])


def test_a_webhook_re_pointed_by_whoever_writes_subscriptions_is_never_called(tmp_path):
    """The API may write a company's record (its alert threshold); a URL changed there keeps the old
    sealed secret, which then opens for nobody: no request, no signature for the new host."""
    path = tmp_path / "subscriptions.key"
    create_key_file(path)
    mine = sealed_subscription(load_sealer(path), "co-1", URL, SECRET)
    moved = mine.model_copy(update={"url": "https://attacker.example/collect", "min_score": 0.0})
    kind, error, requests = attempt(KeyFile(path), moved)
    assert (kind, requests) == (PERMANENT, []) and "another webhook URL" in error


def test_reseal_publishes_every_subscription_it_can_open_sealed_with_the_current_key(monkeypatch):
    old, new = generate_key(), generate_key()
    records = {
        "co-1": sealed_subscription(Sealer([old]), "co-1", URL, SECRET, min_score=0.3).model_dump_json().encode(),
        "co-2": sealed_subscription(Sealer([generate_key()]), "co-2", URL, SECRET).model_dump_json().encode(),
        "co-3": json.dumps({"company_id": "co-3", "url": URL, "secret": SECRET}).encode(),  # the old, plain contract
    }
    sent: list[tuple[str, bytes | None]] = []
    monkeypatch.setattr(subscriptions, "current_subscriptions", lambda settings: records)
    monkeypatch.setattr(subscriptions, "_send_all", lambda settings, topic, batch: sent.extend(batch))
    result = subscriptions.reseal_subscriptions(Settings(), Sealer([new, old]))
    assert (result.resealed, result.failed) == (["co-1"], ["co-2", "co-3"])
    ((key, value),) = sent
    assert key == "co-1" and value is not None
    record, before = Subscription.model_validate_json(value), Subscription.model_validate_json(records["co-1"])
    assert Sealer([new]).unseal("co-1", URL, record.sealed_secret) == SECRET  # the old key is no longer needed
    assert record.model_copy(update={"sealed_secret": ""}) == before.model_copy(update={"sealed_secret": ""})
