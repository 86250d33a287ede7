"""`matchmaker access grant|revoke|list|sync`: who may use the cluster, as the operator.

A city's or platform's credential is printed once (a kcat/librdkafka properties file, or with --json
the kafka-python keyword arguments) and kept nowhere else: the broker stores its salted SCRAM hash.
A service's or the operator's new password goes to the local store under MATCHMAKER_HOME, where the
project's processes find it; nothing secret is printed for them.
"""

from __future__ import annotations

import argparse
import json
import sys

from services.errors import InvalidInputError
from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    access = commands.add_parser(
        "access",
        help="grant, rotate, revoke and list the cluster's principals (cities, platforms, services, operator)",
        description="Principals and their ACLs (see README, Security). Runs as the operator.",
    )
    actions = access.add_subparsers(title="actions", required=True)

    grant = actions.add_parser(
        "grant",
        help="create or rotate a credential and set its ACLs; prints a city's or platform's client configuration",
    )
    who = grant.add_mutually_exclusive_group(required=True)
    who.add_argument("--city", metavar="NAME", help="a city platform: may publish to its own challenges topic only")
    who.add_argument("--platform", metavar="NAME", help="a trusted platform: may publish company profiles")
    who.add_argument("--service", choices=["worker", "notifier", "inbox", "api", "monitor"], help="rotate a service")
    who.add_argument("--operator", action="store_true", help="rotate the operator's own credential")
    grant.add_argument("--json", action="store_true", help="kafka-python keyword arguments as one JSON object")
    grant.set_defaults(run=_grant)

    revoke = actions.add_parser("revoke", help="remove a principal's credential and ACLs")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--city", metavar="NAME")
    target.add_argument("--platform", metavar="NAME")
    target.add_argument("--principal", metavar="USER", help="any SCRAM user, e.g. city-oulu")
    revoke.set_defaults(run=_revoke)

    listing = actions.add_parser("list", help="every SCRAM user and its ACLs")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    sync = actions.add_parser("sync", help="create the project's topics and the services' ACLs (idempotent)")
    sync.set_defaults(run=_sync)

    table = actions.add_parser("table", help="the principal -> topics -> operations table (README, Security)")
    table.add_argument("--write", action="store_true", help="rewrite the table in README.md (in a checkout)")
    table.set_defaults(run=_table)


def _grant(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka import access, clients, credentials

    admin = clients.admin(settings, client_id="matchmaker-access")
    try:
        if args.city or args.platform:
            principal = (
                access.city_principal(settings, args.city)
                if args.city
                else access.platform_principal(settings, args.platform)
            )
            password = access.grant(admin, settings, principal)
            config = access.client_config(settings, principal, password)
            print(json.dumps(config, indent=2) if args.json else access.client_properties(config), end="\n")
            print(f"granted {principal.name}; the password is shown only now", file=sys.stderr)
            return 0
        name = access.OPERATOR if args.operator else args.service
        password = credentials.new_password()
        access.set_password(admin, settings, name, password)
        if args.service:
            access.sync_services(admin, settings)
    finally:
        admin.close()
    if settings.uses_local_broker or settings.kafka_username is None:
        credentials.write(settings.home, name, password)
        print(f"rotated {name}; its password is in {credentials.store_dir(settings.home) / (name + '.password')}")
        if name != access.OPERATOR:
            print(f"restart the {name} processes: open connections keep the old session until they reconnect")
    else:
        print(password)
    return 0


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka import access, clients

    if args.city:
        user = access.city_principal(settings, args.city).name
    elif args.platform:
        user = access.platform_principal(settings, args.platform).name
    else:
        user = args.principal
    admin = clients.admin(settings, client_id="matchmaker-access")
    try:
        removed = access.revoke(admin, user)
    finally:
        admin.close()
    print(f"revoked {user}" if removed else f"{user} had no credential or ACL")
    return 0 if removed else 3


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka import access, clients

    admin = clients.admin(settings, client_id="matchmaker-access")
    try:
        rows = access.listing(admin)
    finally:
        admin.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        mechanisms = ",".join(row["mechanisms"]) or "no credential"
        print(f"{row['principal']} ({mechanisms})")
        for acl in row["acls"]:
            print(f"    {acl}")
    return 0


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka import access

    access.sync(settings)
    print("topics and service ACLs are in place")
    return 0


README_MARKERS = ("<!-- access-table: generated by `matchmaker access table --write` -->", "<!-- /access-table -->")


def _table(settings: Settings, args: argparse.Namespace) -> int:
    """Printed, or written into the README between its markers, for the default topic names."""
    from services.kafka import access
    from services.settings import PROJECT_ROOT

    text = access.docs_table(settings)  # the README shows the default names: run it without MATCHMAKER_TOPIC_*
    if not args.write:
        print(text)
        return 0
    readme = PROJECT_ROOT / "README.md"
    start, end = README_MARKERS
    content = readme.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise InvalidInputError(f"{readme} has no {start} ... {end} section")
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
    print(f"wrote the access table into {readme}")
    return 0
