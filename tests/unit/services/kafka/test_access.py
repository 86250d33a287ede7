"""The access plan, without a broker: who may do what, and the README table made from it."""

from __future__ import annotations

import pytest

from services.errors import InvalidInputError
from services.kafka import access
from services.settings import PROJECT_ROOT, Settings


def grants_of(principal: access.Principal) -> dict[str, set[str]]:
    """topic or group name -> the operations allowed on it."""
    found: dict[str, set[str]] = {}
    for grant in principal.grants:
        found.setdefault(f"{grant.resource}:{grant.name}", set()).update(grant.operations)
    return found


def writers(settings: Settings, topic: str) -> set[str]:
    return {p.name for p in access.service_principals(settings) if "Write" in grants_of(p).get(f"topic:{topic}", set())}


def test_a_city_may_write_its_own_challenges_topic_and_nothing_else():
    settings = Settings()
    helsinki = access.city_principal(settings, "helsinki")
    assert helsinki.name == "city-helsinki"
    assert grants_of(helsinki) == {"topic:challenges.helsinki": {"Write", "Describe"}}
    acls = access.acls(helsinki)
    assert {acl.resource_pattern.pattern_type.name for acl in acls} == {"LITERAL"}  # never a prefix
    with pytest.raises(InvalidInputError, match="one of: Helsinki"):
        access.city_principal(settings, "Stockholm")


def test_only_the_operator_writes_the_delivery_control_topics():
    settings = Settings()
    assert writers(settings, settings.delivery.topic_inbox_tokens) == set()
    # and the API, for a company's own alert threshold (it keeps the record's sealed webhook as it is)
    assert writers(settings, settings.delivery.topic_subscriptions) == {"api"}
    assert writers(settings, settings.topic_matches) == {"worker"}
    assert writers(settings, settings.topic_challenges) == {"api"}
    assert all(writers(settings, topic) == set() for topic in settings.city_topics.values())


def test_each_service_reads_what_it_consumes():
    settings = Settings()
    by_name = {p.name: grants_of(p) for p in access.service_principals(settings)}
    for topic in settings.challenge_topics:
        assert "Read" in by_name["worker"][f"topic:{topic}"]
    assert by_name["worker"]["group:matchmaker"] == {"Read", "Describe"}
    assert "Read" in by_name["notifier"][f"topic:{settings.delivery.topic_subscriptions}"]
    assert "topic:" + settings.delivery.topic_subscriptions not in by_name["inbox"]  # sealed secrets: notifier only
    assert "Read" in by_name["inbox"][f"topic:{settings.delivery.topic_inbox_tokens}"]
    assert not any(name.startswith("topic:") and "Write" in ops for name, ops in by_name["monitor"].items())


def test_the_readme_table_is_the_one_the_code_makes():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert access.docs_table(Settings()) in readme, "run `python -m services.kafka.access_table --write`"
