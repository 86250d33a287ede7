"""Event contracts: what is accepted, what is refused and why, and the exported JSON Schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import (
    CONTRACTS,
    Challenge,
    CompanyProfile,
    MatchResult,
    match_id_for,
    validate_business_id,
)
from schemas.events import is_identifier
from schemas.export import SCHEMA_DIR, render

GOOD_CHALLENGE = {
    "challenge_id": "ch-esp-010",
    "version": 1,
    "city": "Espoo",
    "title": "Safer school routes",
    "description": "Pilot ways to make school routes safer in winter.",
    "language": "en",
    "tags": ["Mobility", "schools", "mobility"],
    "deadline": "2027-05-31",
    "budget_eur": 40000,
}
GOOD_COMPANY = {
    "company_id": "co-9",
    "version": 3,
    "name": "Reitti Oy",
    "business_id": "2617416-4",
    "description": "Route planning for pupils.",
    "cities_of_interest": ["Espoo", "Vantaa"],
    "languages": ["fi", "en"],
}


def test_good_challenge_is_normalised():
    challenge = Challenge.model_validate(GOOD_CHALLENGE)
    assert challenge.tags == ["mobility", "schools"]
    assert challenge.status == "open" and str(challenge.deadline) == "2027-05-31"


def test_good_company_defaults():
    company = CompanyProfile.model_validate(GOOD_COMPANY)
    assert company.status == "active" and company.offerings == [] and company.cities_of_interest == ["Espoo", "Vantaa"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"city": "Stockholm"}, "city"),
        ({"version": 0}, "version"),
        ({"title": "   "}, "title"),
        ({"description": "x" * 9000}, "description"),
        ({"budget_eur": -1}, "budget_eur"),
        ({"deadline": "next spring"}, "deadline"),
        ({"status": "paused"}, "status"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_challenge_names_the_field(change, field):
    with pytest.raises(ValidationError) as error:
        Challenge.model_validate({**GOOD_CHALLENGE, **change})
    assert error.value.errors()[0]["loc"][0] == field


def test_missing_required_fields_are_named():
    with pytest.raises(ValidationError) as error:
        Challenge.model_validate({"challenge_id": "x", "version": 1})
    assert {e["loc"][0] for e in error.value.errors()} == {"city", "title", "description"}


def test_unknown_fields_are_accepted_and_ignored():
    challenge = Challenge.model_validate({**GOOD_CHALLENGE, "cms_internal_ref": 77})
    assert "cms_internal_ref" not in challenge.model_dump()


def test_html_and_control_characters_are_kept_as_text():
    text = "<script>alert(1)</script>\u0007 kept as text"
    assert Challenge.model_validate({**GOOD_CHALLENGE, "description": text}).description == text


@pytest.mark.parametrize("business_id", ["2617416-4", "0112038-9", "1572860-0"])
def test_valid_business_ids(business_id):
    assert validate_business_id(business_id) == business_id


@pytest.mark.parametrize(
    "business_id, words",
    [
        ("2617416-5", "wrong check digit"),
        ("2617416", "look like"),
        ("26174164", "look like"),
        ("abcdefg-1", "look like"),
    ],
)
def test_invalid_business_ids(business_id, words):
    with pytest.raises(ValueError, match=words):
        validate_business_id(business_id)
    with pytest.raises(ValidationError):
        CompanyProfile.model_validate({**GOOD_COMPANY, "business_id": business_id})


@pytest.mark.parametrize(
    "company_id", ["co-9", "co.9:a_b", "9", "x" * 128, "", "-co", "co 9", "../etc", "x" * 129, "co-9\n"]
)
def test_one_identifier_rule_for_events_and_tokens(company_id):
    """`is_identifier` (token owners) accepts exactly the ids a company profile accepts."""
    try:
        accepted = CompanyProfile.model_validate({**GOOD_COMPANY, "company_id": company_id}).company_id == company_id
    except ValidationError:
        accepted = False
    assert is_identifier(company_id) == accepted


def test_match_id_is_deterministic_and_version_sensitive():
    first = match_id_for("ch-1", 1, "co-1", 1)
    assert first == match_id_for("ch-1", 1, "co-1", 1)
    assert (
        len(
            {
                first,
                match_id_for("ch-1", 2, "co-1", 1),
                match_id_for("ch-1", 1, "co-1", 2),
                match_id_for("ch-2", 1, "co-1", 1),
            }
        )
        == 4
    )


def test_match_result_create_derives_id():
    fields = dict(
        challenge_id="ch-1",
        company_id="co-1",
        challenge_version=1,
        company_version=2,
        rank=1,
        score=0.5,
        components={"dense": 0.5},
        reasons=["x"],
        trigger="challenge",
        model="m",
    )
    a, b = MatchResult.create(**fields), MatchResult.create(**{**fields, "trigger": "company", "rank": 3})
    assert a.match_id == b.match_id == match_id_for("ch-1", 1, "co-1", 2)
    with pytest.raises(ValidationError):
        MatchResult.create(**{**fields, "score": 1.5})


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_exported_json_schema_is_current(name):
    path = Path(SCHEMA_DIR) / f"{name}.schema.json"
    assert path.read_text(encoding="utf-8") == render(name), "run `make schemas` and commit the result"


def test_a_subscription_without_webhook_is_the_inbox_only_and_a_half_webhook_is_refused():
    from schemas import Subscription

    inbox = Subscription(company_id="co-1", min_score=0.4)
    assert inbox.url is None and not inbox.webhook
    with pytest.raises(ValidationError, match="go together"):
        Subscription(company_id="co-1", url="https://example.fi/hook")
    with pytest.raises(ValidationError, match="go together"):
        Subscription(company_id="co-1", sealed_secret="A" * 120)
    assert Subscription(company_id="co-1", url="https://example.fi/hook", sealed_secret="A" * 120).webhook


def test_an_alert_is_a_match_result_trigger():
    result = MatchResult.create(
        challenge_id="ch-1",
        company_id="co-1",
        challenge_version=1,
        company_version=1,
        rank=12,
        score=0.4,
        components={},
        reasons=[],
        trigger="alert",
        model="m",
    )
    assert result.trigger == "alert" and result.match_id == match_id_for("ch-1", 1, "co-1", 1)
