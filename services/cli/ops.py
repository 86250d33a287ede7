"""Operator subcommands of `matchmaker`: `lag` (consumer-group lag and status), `monitor` (HTTP service) and
`ops-token` (the bearer token of operator surfaces that listen off loopback)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from services.errors import InvalidInputError
from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    lag = commands.add_parser(
        "lag",
        help="consumer-group lag, lag in seconds and Burrow-style status per partition",
        description="For the worker group (MATCHMAKER_APP_ID), the notifier group (<app id>-notifier) and any "
        "--group: committed offset, log-end offset, lag, age of the next unconsumed message (lag seconds) and a "
        "status from a sliding window of samples (OK, WARN, REWIND, STALL, STOP; NOTFOUND for an unknown group). "
        "Without --watch it takes --samples samples --interval seconds apart and prints the last.",
    )
    lag.add_argument("--group", action="append", default=[], metavar="G", help="another consumer group (repeatable)")
    lag.add_argument("--only", action="store_true", help="only the --group groups, not the system's own")
    lag.add_argument("--json", action="store_true", help="one JSON object per report (JSON lines with --watch)")
    lag.add_argument("--watch", action="store_true", help="keep sampling and print a report every interval")
    lag.add_argument("--samples", type=int, default=5, help="samples in the sliding window (default 5, at least 2)")
    lag.add_argument("--interval", type=float, default=1.0, help="seconds between samples (default 1)")
    lag.set_defaults(run=_lag)

    monitor = commands.add_parser(
        "monitor",
        help="serve lag metrics (/metrics), probes (/healthz, /readyz) and the live page (/)",
        description="Samples consumer-group lag in the background; settings MATCHMAKER_MONITOR_* (port 9308).",
    )
    monitor.add_argument("--host", help="interface (default MATCHMAKER_MONITOR_HOST or 127.0.0.1)")
    monitor.add_argument("--port", type=int, help="port (default MATCHMAKER_MONITOR_PORT or 9308)")
    monitor.add_argument(
        "--group", action="append", default=[], metavar="G", help="another consumer group (repeatable)"
    )
    monitor.set_defaults(run=_monitor)

    token = commands.add_parser(
        "ops-token",
        help="create (once) the operator token that off-loopback monitor, worker and notifier servers require",
        description="Writes a random token to MATCHMAKER_OPS_TOKEN_FILE (default <MATCHMAKER_HOME>/security/ops-token, "
        "mode 0600) unless it exists, and prints the file's path: "
        'curl -H "Authorization: Bearer $(cat "$(matchmaker ops-token)")" http://HOST:9308/metrics',
    )
    token.add_argument("--rotate", action="store_true", help="replace an existing token (restart the servers)")
    token.set_defaults(run=_ops_token)


def _lag(settings: Settings, args: argparse.Namespace) -> int:
    from services.ops.lag_sampler import (
        LagSampler,
        LagTracker,
        format_report,
        system_groups,
    )

    if args.samples < 2:
        raise InvalidInputError("--samples must be at least 2 (a status needs a window)")
    if args.interval <= 0:
        raise InvalidInputError("--interval must be positive")
    if args.only and not args.group:
        raise InvalidInputError("--only needs at least one --group")
    groups = list(dict.fromkeys(args.group)) if args.only else system_groups(settings, args.group)
    tracker = LagTracker(LagSampler(settings, groups), window_size=args.samples, interval=args.interval)
    try:
        taken = 0
        while True:
            started = time.monotonic()
            report = tracker.poll()
            taken += 1
            if args.watch or taken >= args.samples:
                if args.json:
                    print(json.dumps(report.to_dict()), flush=True)
                else:
                    print(format_report(report) + ("\n" if args.watch else ""), flush=True)
                if not args.watch:
                    return 0
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    except BrokenPipeError:  # `matchmaker lag --watch | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        tracker.close()


def _monitor(settings: Settings, args: argparse.Namespace) -> int:
    from services.ops.monitor import serve

    monitor = settings.monitor
    overrides: dict[str, object] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.group:
        overrides["groups"] = list(dict.fromkeys([*monitor.groups, *args.group]))
    serve(settings.model_copy(update={"monitor": monitor.model_copy(update=overrides)}))
    return 0


def _ops_token(settings: Settings, args: argparse.Namespace) -> int:
    from services.ops.access import ensure_token

    path = settings.ops_token_path
    if ensure_token(path, rotate=args.rotate):
        print(f"wrote a new operator token to {path}", file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `matchmaker lag`, `matchmaker monitor` or `matchmaker ops-token`")
