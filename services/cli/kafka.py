"""`matchmaker kafka up|down|status`: the project's local single-node broker."""

from __future__ import annotations

import argparse

from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    kafka = commands.add_parser(
        "kafka",
        help="the local single-node Kafka broker (KRaft)",
        description="Start, stop or inspect the project's local broker. Does nothing "
        "but report when KAFKA_BOOTSTRAP_SERVERS points at an existing cluster.",
    )
    kafka.add_argument("action", choices=["up", "down", "status"])
    kafka.add_argument(
        "--debug-listener",
        action="store_true",
        help="up: also listen SASL_PLAINTEXT (authenticated, NOT encrypted) on port+2, for packet captures",
    )
    kafka.set_defaults(run=_kafka)


def _kafka(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka.local import LocalBroker

    if args.debug_listener:
        settings = settings.model_copy(update={"kafka_debug_listener": True})
    broker = LocalBroker(settings)
    if args.action == "up":
        print(broker.up().describe())
    elif args.action == "down":
        print("stopped the local broker" if broker.down() else "no local broker was running")
    else:
        status = broker.status()
        print(status.describe())
        return 0 if status.running else 3
    return 0
