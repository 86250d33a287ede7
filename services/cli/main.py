"""The `matchmaker` command line: each command group adds its commands; this module parses and runs.

An expected failure (`MatchmakerError`, or a missing input file) is printed as one line,
`matchmaker: <message>`, with exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from services.cli import access, delivery, demo, events, ingest, kafka, ops, ranking, worker
from services.errors import MatchmakerError
from services.logs import configure_logging
from services.model_env import use_offline_models
from services.settings import Settings

# in this order in `matchmaker --help`
GROUPS = (kafka, access, worker, events, ranking, demo, ingest, delivery, ops)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    use_offline_models()  # before any command imports the model libraries
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.run(settings, args) or 0)
    except KeyboardInterrupt:
        return 130
    except (MatchmakerError, FileNotFoundError) as error:  # the user's to fix: one clear line, not a traceback
        if settings.log_format == "json":  # a json-format process writes nothing but log records
            logging.getLogger("matchmaker").error("matchmaker: %s", error)
        else:
            print(f"matchmaker: {error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matchmaker",
        description="Six Cities Matchmaker: pairs cities' challenges with company profiles over Kafka. "
        "Settings come from MATCHMAKER_* environment variables and KAFKA_BOOTSTRAP_SERVERS (see docs/operators.md).",
    )
    commands = parser.add_subparsers(title="commands")
    for group in GROUPS:
        group.add_commands(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
