"""`matchmaker api` (the HTTP ingest API) and `matchmaker api-token` (its publisher tokens)."""

from __future__ import annotations

import argparse
import sys

from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    api = commands.add_parser(
        "api",
        help="serve the HTTP ingest API (MATCHMAKER_API_HOST/PORT)",
        description="Publish challenges and profiles over HTTP, with per-publisher tokens.",
    )
    api.add_argument("--host", help="interface (default MATCHMAKER_API_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, help="port (default MATCHMAKER_API_PORT or 8080)")
    api.set_defaults(run=_api)

    token = commands.add_parser("api-token", help="issue, list or revoke ingest API tokens")
    token_actions = token.add_subparsers(title="actions", dest="action", required=True)
    issue = token_actions.add_parser("issue", help="issue a token for one city or one company; printed once")
    owner = issue.add_mutually_exclusive_group(required=True)
    owner.add_argument("--city", help="the token may publish only this city's challenges")
    owner.add_argument("--company", help="the token may write only this company_id's profile")
    issue.add_argument("--label", default="", help="a note for `api-token list`")
    token_actions.add_parser("list", help="list token ids and their publishers (never the tokens)")
    revoke = token_actions.add_parser("revoke", help="revoke a token by its id (mmt_…)")
    revoke.add_argument("token_id")
    token.set_defaults(run=_api_token)


def _api(settings: Settings, args: argparse.Namespace) -> int:
    from services.ingest.app import serve

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    serve(settings.model_copy(update={"api": settings.api.model_copy(update=overrides)}))
    return 0


def _api_token(settings: Settings, args: argparse.Namespace) -> int:
    from services.errors import NotFoundError
    from services.ingest.tokens import TokenStore

    store = TokenStore(settings.api.tokens_path(settings.home))
    if args.action == "issue":
        token, record = store.issue(city=args.city, company_id=args.company, label=args.label)
        owner = f"city {record.city}" if record.city else f"company {record.company_id}"
        print(f"issued {record.token_id} for {owner}; store it now, it is not shown again:", file=sys.stderr)
        print(token, flush=True)
    elif args.action == "list":
        for record in store.records().values():
            owner = f"city:{record.city}" if record.city else f"company:{record.company_id}"
            state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
            print(f"{record.token_id}  {owner:<24} {record.created_at}  {state}  {record.label}")
    elif not store.revoke(args.token_id):
        raise NotFoundError(f"no token {args.token_id}")
    else:
        print(f"revoked {args.token_id}")
    return 0
