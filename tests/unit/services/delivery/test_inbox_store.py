"""The inbox's bounded memory without a broker: at most N matches per company (the newest), none past
retention, a dropped match never back on replay, and the measured memory per match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas import MatchResult
from services.delivery.inbox import InboxView
from services.delivery.inbox_store import MatchStore
from services.settings import DeliverySettings, Settings
from tests.support.inbox import inbox_bytes_per_match, realistic_match

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = 86_400.0


def aged(i: int, days: float = 0.0, company_id: str = "co-1") -> MatchResult:
    """Match i of a company, produced i seconds (plus `days`) before NOW: a larger i is older."""
    return realistic_match(i, company_id, now=NOW - timedelta(days=days))


def store(max_per_company: int = 3, retention_days: float = 90.0) -> MatchStore:
    return MatchStore(max_per_company, retention_days * DAY, clock=NOW.timestamp)


def ids(matches) -> list[str]:
    return [m.key[1] for m in sorted(matches, key=lambda m: m.key, reverse=True)]


def test_a_company_keeps_its_newest_matches_only():
    s = store(max_per_company=3)
    matches = [aged(i) for i in range(5, -1, -1)]  # oldest first, as they were produced
    for match in matches:
        s.add(match)
    newest = [m.match_id for m in matches[::-1][:3]]
    assert ids(s.of("co-1")) == newest and s.stats() == {"companies": 1, "matches": 3}
    assert not s.add(matches[0])  # replayed after it was dropped: older than all kept, stays out
    assert not s.add(matches[-1])  # a duplicate of a kept one: shown once
    for i in range(3):
        s.add(aged(i, company_id="co-2"))  # the cap is per company
    assert ids(s.of("co-1")) == newest and len(s.of("co-2")) == 3


def test_matches_past_retention_leave_and_never_come_back():
    s = store(max_per_company=10, retention_days=90)
    assert not s.add(aged(0, days=91))  # already past retention
    assert s.add(aged(0, days=89.9)) and s.add(aged(1, days=10)) and s.add(aged(2, days=1, company_id="co-2"))
    s.clock = (NOW + timedelta(days=0.2)).timestamp  # the first match is now 90.1 days old
    assert len(s.of("co-1")) == 1  # hidden at once, before any sweep
    assert s.expire() == 1 and s.stats() == {"companies": 2, "matches": 2}
    assert not s.add(aged(0, days=89.9))  # replayed: still past retention
    s.clock = (NOW + timedelta(days=95)).timestamp
    assert s.expire() == 2 and s.stats() == {"companies": 0, "matches": 0}  # empty companies are forgotten


def test_a_stored_match_reads_back_as_its_json():
    s = store()
    match = aged(0)
    s.add(match)
    (stored,) = s.of("co-1")
    assert stored.to_dict() == match.model_dump(mode="json")
    assert (stored.challenge_id, stored.challenge_version, stored.company_version) == (match.challenge_id, 3, 2)


def test_the_inbox_view_applies_both_bounds_from_its_settings():
    settings = Settings().model_copy(
        update={"delivery": DeliverySettings(inbox_max_per_company=2, inbox_retention_days=1)}
    )
    view = InboxView(settings)
    now = datetime.now(UTC)
    fresh = [realistic_match(i, now=now) for i in range(3)]
    for match in [realistic_match(9, now=now - timedelta(days=2)), *fresh[::-1]]:
        view._apply(settings.topic_matches, match.company_id.encode(), match.model_dump_json().encode())
    page, cursor = view.page("co-0001", 10, None)
    assert [m["match_id"] for m in page] == [fresh[0].match_id, fresh[1].match_id] and cursor is None
    assert view.stats()["matches"] == 2


def test_memory_per_stored_match_is_what_the_operators_guide_says():
    per_match = inbox_bytes_per_match(2_000)
    print(f"\ninbox: {per_match:.0f} bytes per stored match")
    assert 300 < per_match < 1_300  # docs/operators.md: about 900 bytes (10,000 matches)
