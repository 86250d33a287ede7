"""`matchmaker publish` (a JSONL file of events to Kafka) and `matchmaker matches` (MatchResults from Kafka)."""

from __future__ import annotations

import argparse

from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    publish = commands.add_parser(
        "publish",
        help="validate and publish a JSONL file of events",
        description="Validate every line first; publish nothing if a line is invalid.",
    )
    publish.add_argument("kind", choices=["challenges", "companies"])
    publish.add_argument("file")
    publish.set_defaults(run=_publish)

    matches = commands.add_parser("matches", help="print MatchResults from the matches topic")
    matches.add_argument("--follow", action="store_true", help="keep waiting for new matches")
    matches.add_argument("--company", help="only this company_id")
    matches.add_argument("--challenge", help="only this challenge_id")
    matches.add_argument("--json", action="store_true", help="one MatchResult JSON per line")
    matches.set_defaults(run=_matches)


def _publish(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka.publisher import Publisher, publish_file
    from services.kafka.topics import ensure_topics

    ensure_topics(settings)
    with Publisher.from_settings(settings) as publisher:
        count = publish_file(publisher, args.kind, args.file)
    print(f"published {count} {args.kind} to {settings.bootstrap_servers}")
    return 0


def _matches(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka.results import read_matches

    for result in read_matches(settings, follow=args.follow):
        if (args.company and result.company_id != args.company) or (
            args.challenge and result.challenge_id != args.challenge
        ):
            continue
        if args.json:
            print(result.model_dump_json(), flush=True)
        else:
            print(
                f"{result.produced_at:%Y-%m-%d %H:%M:%S} {result.trigger:<9} {result.challenge_id:<14} "
                f"{result.company_id:<12} rank {result.rank:>2} score {result.score:.3f}  {'; '.join(result.reasons)}",
                flush=True,
            )
    return 0
