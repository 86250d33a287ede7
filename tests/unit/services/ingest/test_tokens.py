"""Ingest API tokens: issued once, stored as SHA-256 only, scoped to one city or one company."""

from __future__ import annotations

import json
import stat

import pytest

from services.bearer import hash_token
from services.ingest.tokens import Principal, TokenStore


def test_issued_token_authenticates_as_its_city(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    token, record = store.issue(city="espoo", label="platform")
    assert token.startswith(record.token_id + ".")
    assert record.city == "Espoo" and record.company_id is None
    assert store.authenticate(token) == Principal(record.token_id, city="Espoo")
    assert store.authenticate(f"  {token} ") == Principal(record.token_id, city="Espoo")


def test_file_keeps_only_the_hash_and_is_private(tmp_path):
    path = tmp_path / "tokens.json"
    token, record = TokenStore(path).issue(company_id="co-0001")
    text = path.read_text()
    assert token not in text and token.split(".", 1)[1] not in text
    assert json.loads(text)["tokens"][record.token_id]["sha256"] == hash_token(token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("presented", [None, "", "Bearer x", "mmt_00000000.abc", "garbage.with.dots"])
def test_unknown_or_malformed_tokens_are_refused(tmp_path, presented):
    store = TokenStore(tmp_path / "tokens.json")
    store.issue(city="Oulu")
    assert store.authenticate(presented) is None


def test_tampered_secret_is_refused(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.issue(city="Turku")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.authenticate(tampered) is None


def test_revoked_token_is_refused_by_a_running_store(tmp_path):
    path = tmp_path / "tokens.json"
    api_side = TokenStore(path)  # the API's instance, which caches the file
    token, record = TokenStore(path).issue(company_id="co-9")
    assert api_side.authenticate(token) is not None
    assert TokenStore(path).revoke(record.token_id)
    assert api_side.authenticate(token) is None  # re-read after the file changed
    assert not TokenStore(path).revoke("mmt_ffffffff")


def test_issue_needs_exactly_one_valid_publisher(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    with pytest.raises(ValueError):
        store.issue()
    with pytest.raises(ValueError):
        store.issue(city="Espoo", company_id="co-1")
    with pytest.raises(ValueError, match="unknown city"):
        store.issue(city="Stockholm")
    with pytest.raises(ValueError, match="invalid company id"):
        store.issue(company_id="../etc")


def test_scopes_separate_publishers():
    assert Principal("a", city="Espoo").scope == "city:Espoo"
    assert Principal("b", company_id="co-1").scope == "company:co-1"
