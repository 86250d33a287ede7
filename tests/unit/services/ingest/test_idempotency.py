"""Idempotency-Key records: first answer replayed, other requests under the key refused, durable, expiring."""

from __future__ import annotations

from services.ingest.idempotency import IdempotencyStore, fingerprint

PRINT = fingerprint("PUT", "/v1/companies/co-1", b'{"name": "A"}')


def test_first_request_is_new_and_its_repeat_is_replayed(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    assert store.begin("company:co-1", "k", PRINT).outcome == "new"
    assert store.begin("company:co-1", "k", PRINT).outcome == "in_progress"
    store.complete("company:co-1", "k", 202, '{"offset": 7}')
    replay = store.begin("company:co-1", "k", PRINT)
    assert (replay.outcome, replay.status, replay.body) == ("replay", 202, '{"offset": 7}')


def test_same_key_for_a_different_request_is_a_mismatch(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    store.begin("company:co-1", "k", PRINT)
    store.complete("company:co-1", "k", 202, "{}")
    other = fingerprint("PUT", "/v1/companies/co-1", b'{"name": "B"}')
    assert store.begin("company:co-1", "k", other).outcome == "mismatch"


def test_keys_are_per_publisher(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    store.begin("city:Espoo", "k", PRINT)
    store.complete("city:Espoo", "k", 202, "{}")
    assert store.begin("city:Helsinki", "k", PRINT).outcome == "new"


def test_released_claim_can_be_retried(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3")
    store.begin("s", "k", PRINT)
    store.release("s", "k")
    assert store.begin("s", "k", PRINT).outcome == "new"


def test_records_survive_a_restart(tmp_path):
    path = tmp_path / "idem.sqlite3"
    first = IdempotencyStore(path)
    first.begin("s", "k", PRINT)
    first.complete("s", "k", 202, '{"a": 1}')
    assert IdempotencyStore(path).begin("s", "k", PRINT).outcome == "replay"


def test_records_expire_after_the_ttl(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3", ttl_seconds=60)
    store.begin("s", "k", PRINT, now=1000.0)
    store.complete("s", "k", 202, "{}")
    assert store.begin("s", "k", PRINT, now=1059.0).outcome == "replay"
    assert store.begin("s", "k", PRINT, now=1061.0).outcome == "new"
    assert store.purge(now=10_000.0) == 1


def test_abandoned_claim_is_taken_over(tmp_path):
    store = IdempotencyStore(tmp_path / "idem.sqlite3", pending_timeout=30)
    store.begin("s", "k", PRINT, now=1000.0)
    assert store.begin("s", "k", PRINT, now=1010.0).outcome == "in_progress"
    assert store.begin("s", "k", PRINT, now=1031.0).outcome == "new"


def test_fingerprint_covers_method_path_and_body():
    prints = {
        fingerprint("PUT", "/a", b"x"),
        fingerprint("POST", "/a", b"x"),
        fingerprint("PUT", "/b", b"x"),
        fingerprint("PUT", "/a", b"y"),
        fingerprint("PUT", "/ax", b""),
        fingerprint("PUT", "/a", b"x" * 2),
    }
    assert len(prints) == 6
