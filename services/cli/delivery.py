"""The delivery side's `matchmaker` subcommands: subscribe, unsubscribe, subscription-key, notifier, inbox,
inbox-token."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from services.errors import InvalidInputError
from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    subscribe = commands.add_parser(
        "subscribe",
        help="register (or replace) a company's subscription: its alert threshold, and its webhook or none",
        description="Publishes a Subscription (key company_id) to the compacted subscriptions topic, its "
        "webhook secret sealed with the subscriptions key (created when missing). Without --url the company "
        "subscribes its inbox only: alerts for every challenge scoring at least --min-score reach the inbox, "
        "nothing is POSTed. The secret is never a "
        "command-line argument: give --secret-file, --secret-stdin or MATCHMAKER_WEBHOOK_SECRET, or none to have a "
        "strong one generated and printed once (on standard output, alone).",
    )
    subscribe.add_argument("--company", required=True, help="company_id")
    subscribe.add_argument(
        "--url",
        help="https webhook URL (none: inbox only) on a public address that receives POSTed JSON "
        "(plain http only to a loopback host, with MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP=true)",
    )
    source = subscribe.add_mutually_exclusive_group()
    source.add_argument(
        "--secret-file", type=Path, metavar="PATH", help="read the HMAC-SHA256 secret (16-256 characters) from a file"
    )
    source.add_argument(
        "--secret-stdin", action="store_true", help="read the secret from standard input (a prompt on a terminal)"
    )
    # refused with a message that says why (argv is public); kept so that `--secret X` is not taken for
    # an abbreviation of --secret-file or --secret-stdin
    subscribe.add_argument("--secret", dest="secret_on_argv", nargs="?", const="", help=argparse.SUPPRESS)
    subscribe.add_argument("--min-score", type=float, default=0.0, help="only matches with at least this score (0..1)")
    subscribe.add_argument(
        "--delivery",
        choices=["instant", "digest"],
        default="instant",
        help="instant: one POST per match; digest: one POST per MATCHMAKER_DIGEST_PERIOD",
    )
    subscribe.set_defaults(run=_subscribe)

    unsubscribe = commands.add_parser("unsubscribe", help="remove a company's webhook subscription (tombstone)")
    unsubscribe.add_argument("--company", required=True)
    unsubscribe.set_defaults(run=_unsubscribe)

    key = commands.add_parser(
        "subscription-key",
        help="rotate the key that seals webhook secrets; reseal subscriptions with it",
        description="rotate puts a new key first in the subscriptions key file (older keys still unseal); "
        "copy the file to every notifier host, then reseal publishes every subscription sealed with the new "
        "key, after which the older keys can be deleted from the file. See docs/operators.md.",
    )
    key.add_argument("action", choices=["rotate", "reseal"])
    key.set_defaults(run=_subscription_key)

    notifier = commands.add_parser(
        "notifier",
        help="run one notifier process: webhooks and digests (scale out by running more)",
        description="Delivers each company's matches to its webhook exactly once (signed, retried, dead-lettered). "
        "Processes with the same MATCHMAKER_APP_ID share the companies.",
    )
    notifier.set_defaults(run=_notifier)

    inbox = commands.add_parser("inbox", help="serve the inbox HTTP API (GET /companies/{id}/matches)")
    inbox.add_argument("--host", help="interface (default MATCHMAKER_INBOX_HOST)")
    inbox.add_argument("--port", type=int, help="port (default MATCHMAKER_INBOX_PORT)")
    inbox.set_defaults(run=_inbox)

    token = commands.add_parser(
        "inbox-token",
        help="issue or revoke a company's inbox bearer token",
        description="issue prints a new token once (it replaces the previous one); "
        "only its SHA-256 is published to the inbox-tokens topic.",
    )
    token.add_argument("action", choices=["issue", "revoke"])
    token.add_argument("--company", required=True)
    token.add_argument("--json", action="store_true", help="print {company_id, token} as JSON")
    token.set_defaults(run=_inbox_token)


def _subscribe(settings: Settings, args: argparse.Namespace) -> int:
    """Seal the secret, publish, and only then show a generated secret: stdout carries nothing else."""
    from services.cli.secret_input import REFUSED, read_secret
    from services.delivery.keyfile import create_key_file, key_path, load_sealer
    from services.delivery.subscriptions import (
        check_webhook_url,
        ensure_notifier_topics,
        inbox_subscription,
        publish_subscription,
        sealed_subscription,
    )

    if args.secret_on_argv is not None:
        raise InvalidInputError(REFUSED)
    if args.url is None:
        if args.secret_file is not None or args.secret_stdin:
            raise InvalidInputError("a webhook secret needs --url; without --url the subscription is the inbox only")
        inbox = inbox_subscription(args.company, args.min_score)
        ensure_notifier_topics(settings)
        publish_subscription(settings, inbox)
        print(f"subscribed {inbox.company_id}: inbox only (alerts from min score {inbox.min_score})", file=sys.stderr)
        return 0
    check_webhook_url(settings, args.url)  # before anything else: a refused URL needs no secret and no broker
    given = read_secret(args.secret_file, args.secret_stdin, os.environ, sys.stdin)
    path = key_path(settings)
    if create_key_file(path):
        print(f"created the subscriptions key {path} (0600); notifiers need a copy of it", file=sys.stderr)
    subscription = sealed_subscription(
        load_sealer(path), args.company, args.url, given.secret, min_score=args.min_score, delivery=args.delivery
    )
    ensure_notifier_topics(settings)
    publish_subscription(settings, subscription)
    print(
        f"subscribed {subscription.company_id}: {subscription.delivery} to {subscription.url} "
        f"(min score {subscription.min_score}; secret {'generated' if given.generated else 'from ' + given.source})",
        file=sys.stderr,
    )
    if given.generated:
        print("webhook secret (shown once; configure the receiver with it now):", file=sys.stderr)
        print(given.secret, flush=True)
    return 0


def _subscription_key(settings: Settings, args: argparse.Namespace) -> int:
    from services.delivery.keyfile import add_key, key_path, load_sealer
    from services.delivery.subscriptions import ensure_notifier_topics, reseal_subscriptions

    path = key_path(settings)
    if args.action == "rotate":
        count = add_key(path)
        print(
            f"{path}: a new key seals from now on ({count} keys). Copy the file to every notifier host, "
            "then run `matchmaker subscription-key reseal`"
        )
        return 0
    ensure_notifier_topics(settings)
    result = reseal_subscriptions(settings, load_sealer(path))
    print(f"resealed {len(result.resealed)} subscriptions with the current key of {path}")
    if result.failed:
        raise InvalidInputError(
            f"{len(result.failed)} subscriptions no key of {path} opens were left as they are "
            f"(subscribe them again): {', '.join(result.failed)}"
        )
    print("older keys (every line below the first key) may now be deleted from the file")
    return 0


def _unsubscribe(settings: Settings, args: argparse.Namespace) -> int:
    from services.delivery.subscriptions import ensure_notifier_topics, unsubscribe

    ensure_notifier_topics(settings)
    unsubscribe(settings, args.company)
    print(f"unsubscribed {args.company}")
    return 0


def _notifier(settings: Settings, args: argparse.Namespace) -> int:
    from services.delivery.notifier import run_notifier

    run_notifier(settings)
    return 0


def _inbox(settings: Settings, args: argparse.Namespace) -> int:
    from services.delivery.inbox import run_inbox

    run_inbox(settings, host=args.host, port=args.port)
    return 0


def _inbox_token(settings: Settings, args: argparse.Namespace) -> int:
    from services.delivery.subscriptions import (
        ensure_notifier_topics,
        issue_token,
        revoke_token,
    )

    ensure_notifier_topics(settings)
    if args.action == "revoke":
        revoke_token(settings, args.company)
        print(f"revoked the inbox token of {args.company}")
        return 0
    token = issue_token(settings, args.company)
    if args.json:
        print(json.dumps({"company_id": args.company, "token": token}))
    else:
        print(f"inbox token for {args.company} (shown once; it replaces any previous one):\n{token}")
    return 0
