"""The inbox's view of what fits a company now, from the matches it received (no broker: records applied by hand)."""

from __future__ import annotations

from datetime import date

from schemas import MatchResult
from services.delivery.inbox import InboxView
from services.settings import Settings
from tests.support.factories import make_challenge, make_company

SETTINGS = Settings()
TODAY = date(2027, 1, 1)


def result(challenge_id: str, score: float, challenge_version: int = 1, company_version: int = 1, trigger="alert"):
    return MatchResult.create(
        challenge_id=challenge_id,
        company_id="co-1",
        challenge_version=challenge_version,
        company_version=company_version,
        rank=1,
        score=score,
        components={},
        reasons=[],
        trigger=trigger,
        model="m",
    )


def view_with(*records: tuple[str, object]) -> InboxView:
    view = InboxView(SETTINGS)
    for topic, value in records:
        if isinstance(value, MatchResult):
            view._apply(SETTINGS.topic_matches, value.company_id.encode(), value.model_dump_json().encode())
        else:
            key = value.key.encode()  # type: ignore[attr-defined]
            view._apply(topic, key, value.model_dump_json().encode())  # type: ignore[attr-defined]
    return view


def test_open_challenges_that_fit_now_best_first_one_per_challenge():
    challenges = SETTINGS.topic_challenges
    view = view_with(
        (SETTINGS.topic_companies, make_company("co-1")),
        (challenges, make_challenge("ch-a")),
        (challenges, make_challenge("ch-b")),
        (challenges, make_challenge("ch-closed")),
        (challenges, make_challenge("ch-closed", version=2, status="closed")),
        (challenges, make_challenge("ch-late", deadline="2026-12-31")),
        (challenges, make_challenge("ch-new", version=2)),
        ("", result("ch-a", 0.4)),
        ("", result("ch-a", 0.4, trigger="challenge")),  # the same pair from the shortlist
        ("", result("ch-b", 0.7)),
        ("", result("ch-closed", 0.9)),
        ("", result("ch-late", 0.9)),
        ("", result("ch-new", 0.9)),  # made from version 1; version 2 did not fit
        ("", result("ch-unknown", 0.9)),
    )
    fits = view.fitting("co-1", 0.0, TODAY)
    assert [(m["challenge_id"], m["score"]) for m in fits] == [("ch-b", 0.7), ("ch-a", 0.4)]
    assert [m["challenge_id"] for m in view.fitting("co-1", 0.5, TODAY)] == ["ch-b"]
    assert view.fitting("co-2", 0.0, TODAY) == []


def test_a_new_profile_version_replaces_the_older_scores():
    view = view_with(
        (SETTINGS.topic_companies, make_company("co-1")),
        (SETTINGS.topic_challenges, make_challenge("ch-a")),
        ("", result("ch-a", 0.4)),
        (SETTINGS.topic_companies, make_company("co-1", version=2)),
    )
    assert view.fitting("co-1", 0.0, TODAY) == []
    view._apply(SETTINGS.topic_matches, b"co-1", result("ch-a", 0.6, company_version=2).model_dump_json().encode())
    assert [m["score"] for m in view.fitting("co-1", 0.0, TODAY)] == [0.6]


def test_the_route_answers_the_token_owner_only():
    from fastapi.testclient import TestClient

    from schemas import InboxToken
    from services.bearer import hash_token
    from services.delivery.inbox import create_app

    view = view_with(
        (SETTINGS.topic_challenges, make_challenge("ch-a")),
        ("", result("ch-a", 0.4)),
    )
    token = InboxToken(company_id="co-1", token_sha256=hash_token("mmi_secret"))
    view._apply(SETTINGS.delivery.topic_inbox_tokens, b"co-1", token.model_dump_json().encode())
    view.ready.set()
    client = TestClient(create_app(SETTINGS, view))
    own = client.get("/companies/co-1/challenges?min_score=0.3", headers={"Authorization": "Bearer mmi_secret"})
    assert own.status_code == 200
    assert [m["challenge_id"] for m in own.json()["challenges"]] == ["ch-a"] and own.json()["min_score"] == 0.3
    assert client.get("/companies/co-2/challenges", headers={"Authorization": "Bearer mmi_secret"}).status_code == 403
    assert client.get("/companies/co-1/challenges").status_code == 401
