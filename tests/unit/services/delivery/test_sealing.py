"""Webhook secrets at rest: sealing, the key file, rotation."""

from __future__ import annotations

import os
import stat

import pytest

from services.delivery.keyfile import KeyFile, add_key, create_key_file, load_sealer, read_keys
from services.delivery.sealing import Sealer, UnsealError, check_secret, generate_key
from services.errors import ConfigurationError, InvalidInputError

SECRET = "whsec-0123456789abcdef-XYZ"


def test_seal_then_unseal_gives_the_secret_back():
    sealer = Sealer([generate_key()])
    sealed = sealer.seal("co-1", SECRET)
    assert sealer.unseal("co-1", sealed) == SECRET
    assert sealer.seal("co-1", SECRET) != sealed  # a fresh IV each time: equal secrets do not show as equal


def tamper(sealed: str, position: int) -> str:
    """One base64 character changed (not the last one, whose low bits may be padding)."""
    return sealed[:position] + ("A" if sealed[position] != "A" else "B") + sealed[position + 1 :]


@pytest.mark.parametrize("position", [0, 5, 20, 60, -10])  # version, timestamp, IV, ciphertext, MAC
def test_a_tampered_token_is_refused(position):
    sealer = Sealer([generate_key()])
    sealed = sealer.seal("co-1", SECRET)
    with pytest.raises(UnsealError) as refused:
        sealer.unseal("co-1", tamper(sealed, position % len(sealed)))
    assert SECRET not in str(refused.value)


def test_another_key_or_another_company_is_refused():
    sealed = Sealer([generate_key()]).seal("co-1", SECRET)
    with pytest.raises(UnsealError, match="another key"):
        Sealer([generate_key()]).unseal("co-1", sealed)
    mine = Sealer([generate_key()])
    with pytest.raises(UnsealError, match="another company"):
        mine.unseal("co-2", mine.seal("co-1", SECRET))  # co-1's sealed secret copied into co-2's record
    for junk in ("not-a-token", "é" * 120, ""):
        with pytest.raises(UnsealError):
            mine.unseal("co-1", junk)


@pytest.mark.parametrize("secret", ["short", "x" * 257, "sixteen-chars-ok\nsecond line", "tab\tin-the-middle-xx"])
def test_secrets_outside_the_rule_are_refused_without_being_repeated(secret):
    with pytest.raises(InvalidInputError) as refused:
        check_secret(secret)
    assert secret not in str(refused.value)
    with pytest.raises(InvalidInputError):
        Sealer([generate_key()]).seal("co-1", secret)


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
    sealed_before = load_sealer(path).seal("co-1", SECRET)

    assert add_key(path) == 2
    keys = read_keys(path)
    assert keys[1] == old_key and keys[0] != old_key  # the new key first: it seals from now on
    assert path.read_text().startswith("# Six Cities Matchmaker")  # the comments stay
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = load_sealer(path)
    assert after.unseal("co-1", sealed_before) == SECRET  # sealed with the old key, still opens
    sealed_after = after.seal("co-1", SECRET)
    with pytest.raises(UnsealError):
        Sealer([old_key]).unseal("co-1", sealed_after)

    resealed = after.reseal(sealed_before)
    assert Sealer([keys[0]]).unseal("co-1", resealed) == SECRET  # the old key can go now
    with pytest.raises(UnsealError):
        Sealer([generate_key()]).reseal(sealed_before)


def test_the_notifier_s_key_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "subscriptions.key"
    keys = KeyFile(path)
    with pytest.raises(ConfigurationError):
        keys.sealer()  # not there yet: an error, not a crash, and tried again next time
    create_key_file(path)
    sealed = keys.sealer().seal("co-1", SECRET)
    assert keys.sealer() is keys.sealer()  # unchanged file: not read again
    other = generate_key().decode()
    path.write_text(other + "\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(UnsealError):
        keys.sealer().unseal("co-1", sealed)
