"""Reading MatchResults back from the `matches` topic (no consumer group: nothing is committed)."""

from __future__ import annotations

from collections.abc import Iterator

from schemas import MatchResult
from services.kafka.reader import replay
from services.settings import Settings


def read_matches(settings: Settings, follow: bool = False, poll_seconds: float = 0.5) -> Iterator[MatchResult]:
    """Every MatchResult from the beginning of the topic; with `follow`, keep waiting for new ones."""
    for record in replay(
        settings, settings.topic_matches, client_id="matchmaker-results", follow=follow, poll_seconds=poll_seconds
    ):
        if record.value is not None:
            yield MatchResult.model_validate_json(record.value)


def latest_rankings(results: Iterator[MatchResult], trigger: str = "challenge") -> dict[str, list[MatchResult]]:
    """Per trigger entity, the list of its newest ranking (highest version of that entity), by rank."""
    lists: dict[str, dict[int, dict[str, MatchResult]]] = {}
    for result in results:
        if result.trigger != trigger:
            continue
        owner, version = (
            (result.challenge_id, result.challenge_version)
            if trigger == "challenge"
            else (result.company_id, result.company_version)
        )
        lists.setdefault(owner, {}).setdefault(version, {})[result.match_id] = result
    return {
        owner: sorted(by_version[max(by_version)].values(), key=lambda r: r.rank) for owner, by_version in lists.items()
    }
