"""The API's version view applies topic records with the worker's rules."""

from __future__ import annotations

from schemas import Challenge, CompanyProfile
from services.ingest.versions import VersionView


def challenge(version: int, **extra) -> Challenge:
    return Challenge.model_validate(
        {"challenge_id": "ch-1", "version": version, "city": "Espoo", "title": "T", "description": "D", **extra}
    )


def test_higher_versions_replace_lower_ones_are_ignored():
    view = VersionView()
    view.apply("challenge", "ch-1", challenge(2), 0, 10)
    view.apply("challenge", "ch-1", challenge(1, status="closed"), 0, 11)
    entry = view.get("challenge", "ch-1")
    assert entry.version == 2 and entry.challenge.status == "open" and entry.offset == 11


def test_tombstone_deletes_but_remembers_the_version():
    view = VersionView()
    view.apply("challenge", "ch-1", challenge(3), 0, 1)
    view.apply("challenge", "ch-1", None, 0, 2)
    entry = view.get("challenge", "ch-1")
    assert entry.deleted and entry.version == 3 and entry.challenge is None
    view.apply("challenge", "ch-1", challenge(4), 0, 3)
    assert not view.get("challenge", "ch-1").deleted


def test_a_record_seen_again_is_not_reapplied():
    """The API applies its own write at once; the follower reads it (and older records) later."""
    view = VersionView()
    view.apply("challenge", "ch-1", challenge(1), 2, 5)
    view.apply("challenge", "ch-1", None, 2, 6)  # our own DELETE, applied from the ack
    view.apply("challenge", "ch-1", challenge(1), 2, 5)  # the follower catching up
    assert view.get("challenge", "ch-1").deleted


def test_raw_records_are_decoded_like_the_worker_does():
    view = VersionView()
    company = CompanyProfile(company_id="co-1", version=4, name="A", business_id="2617416-4", description="D")
    view.apply_record("company", b"co-1", company.model_dump_json().encode(), 0, 0)
    view.apply_record("company", b"co-2", b"{not json", 0, 1)  # dead-letter material: ignored
    view.apply_record("company", b"co-3", None, 0, 2)
    assert view.get("company", "co-1").version == 4 and view.get("company", "co-1").challenge is None
    assert view.get("company", "co-2") is None
    assert view.get("company", "co-3").deleted and view.get("company", "co-3").version is None
