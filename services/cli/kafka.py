"""`matchmaker kafka up|down|status`: the project's local single-node broker."""

from __future__ import annotations

import argparse
import json

from services.errors import InvalidInputError
from services.settings import Settings, cluster_shape_file


def add_commands(commands: argparse._SubParsersAction) -> None:
    kafka = commands.add_parser(
        "kafka",
        help="the local single-node Kafka broker (KRaft)",
        description="Start, stop or inspect the project's local broker. Does nothing "
        "but report when KAFKA_BOOTSTRAP_SERVERS points at an existing cluster.",
    )
    kafka.add_argument("action", choices=["up", "down", "status"])
    kafka.add_argument(
        "--brokers",
        type=int,
        choices=[1, 3],
        help="up: the number of nodes (3: a replicated cluster); remembered for later commands on this port",
    )
    kafka.add_argument("--json", action="store_true", help='status: {"brokers": [{id, port, pid, alive}, ...]}')
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
    if args.brokers is not None and args.action == "up" and settings.uses_local_broker:
        running = LocalBroker(settings).status()
        if settings.kafka_brokers != args.brokers and any(node.alive for node in running.nodes):
            raise InvalidInputError(
                f"a local cluster of {settings.kafka_brokers} runs on this port; `matchmaker kafka down` first"
            )
        shape = cluster_shape_file(settings.home, settings.kafka_port)
        shape.parent.mkdir(parents=True, exist_ok=True)
        shape.write_text(f"{args.brokers}\n")
        settings = settings.model_copy(update={"kafka_brokers": args.brokers})
    broker = LocalBroker(settings)
    if args.action == "up":
        print(broker.up().describe())
    elif args.action == "down":
        what = "broker" if len(broker.nodes) == 1 else "cluster"
        print(f"stopped the local {what}" if broker.down() else "no local broker was running")
    else:
        status = broker.status()
        print(json.dumps(status.to_dict()) if args.json else status.describe())
        return 0 if status.running else 3
    return 0
