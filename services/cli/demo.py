"""`matchmaker demo`: the whole system end to end on the project's sample data, then tidy up.

Imports of Kafka and the matcher wait until the demo runs: the CLI imports this module to build its parser."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from services.cli.processes import start_worker, stop_process
from services.settings import Settings

if TYPE_CHECKING:
    from schemas import Challenge, MatchResult


def add_commands(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="start broker and worker, publish the sample data, print rankings",
        description="Runs everything end to end on the sample data and stops what it started.",
    )
    demo.add_argument(
        "--json", action="store_true", help="print the MatchResult events (trigger challenge) as JSON lines"
    )
    demo.set_defaults(run=_demo)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    return run_demo(settings, as_json=args.json)


def run_demo(settings: Settings, as_json: bool = False) -> int:
    from schemas import Challenge, CompanyProfile
    from services.datasets import load_jsonl
    from services.kafka.local import LocalBroker
    from services.kafka.publisher import Publisher, publish_file
    from services.kafka.results import latest_rankings, read_matches
    from services.kafka.topics import ensure_topics
    from services.ops.progress import wait_until_drained

    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if as_json else (lambda *a: print(*a, flush=True))
    started = time.monotonic()
    broker = LocalBroker(settings)
    broker_was_running = broker.status().running
    say(broker.up().describe())
    ensure_topics(settings)
    worker = start_worker(settings, settings.home / "logs" / "demo-worker.log")
    try:
        data = settings.sample_data_dir
        with Publisher.from_settings(settings) as publisher:
            say(f"published {publish_file(publisher, 'companies', data / 'companies.jsonl')} company profiles")
            wait_until_drained(settings, timeout=240, alive=lambda: worker.poll() is None)
            say(f"published {publish_file(publisher, 'challenges', data / 'challenges.jsonl')} challenges")
            wait_until_drained(settings, timeout=240, alive=lambda: worker.poll() is None)
        rankings = latest_rankings(read_matches(settings), trigger="challenge")
        challenges = load_jsonl(data / "challenges.jsonl", Challenge)
        names = {c.company_id: c.name for c in load_jsonl(data / "companies.jsonl", CompanyProfile)}
        for challenge in challenges:
            ranking = rankings.get(challenge.challenge_id, [])
            if as_json:
                for result in ranking:
                    print(result.model_dump_json(), flush=True)
            else:
                print_ranking(challenge, ranking, names)
        total = sum(len(r) for r in rankings.values() if r)
        say(f"{total} matches for {len(challenges)} challenges in {time.monotonic() - started:.0f}s")
        return 0
    finally:
        stop_process(worker)
        if not broker_was_running:
            broker.down()


def print_ranking(challenge: Challenge, ranking: list[MatchResult], names: dict[str, str]) -> None:
    print(f"\n{challenge.challenge_id} [{challenge.city}, {challenge.language or '?'}] {challenge.title}")
    if challenge.status != "open":
        print("   (closed: not matched)")
    elif not ranking:
        print("   (no company above the minimum score)")
    for result in ranking:
        reason = result.reasons[0] if result.reasons else ""
        print(
            f"  {result.rank:>2}. {result.score:.3f}  {names.get(result.company_id, result.company_id):<32.32}  {reason}"
        )
