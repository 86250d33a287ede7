"""`matchmaker worker`: one matching worker process."""

from __future__ import annotations

import argparse

from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser(
        "worker",
        help="run one matching worker process (scale out by running more)",
        description="Consume challenges and companies, embed, rank, emit matches. "
        "Several processes with the same MATCHMAKER_APP_ID share the work.",
    )
    worker.set_defaults(run=_worker)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from services.stream.worker import run_worker

    run_worker(settings)
    return 0
