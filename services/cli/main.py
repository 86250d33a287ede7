"""The `matchmaker` command line."""

from __future__ import annotations

import argparse
import json
import sys

from services.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    settings = Settings()
    try:
        return int(args.run(settings, args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - one clear line for users, not a traceback
        from services.kafka.local import BrokerError

        if isinstance(error, (BrokerError, ValueError, FileNotFoundError, TimeoutError, RuntimeError)):
            print(f"matchmaker: {error}", file=sys.stderr)
            return 1
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matchmaker",
        description="Six Cities Matchmaker: pairs cities' challenges with company profiles over Kafka. "
        "Settings come from MATCHMAKER_* environment variables and KAFKA_BOOTSTRAP_SERVERS (see README).",
    )
    commands = parser.add_subparsers(title="commands")

    kafka = commands.add_parser("kafka", help="the local single-node Kafka broker (KRaft)",
                                description="Start, stop or inspect the project's local broker. Does nothing "
                                "but report when KAFKA_BOOTSTRAP_SERVERS points at an existing cluster.")
    kafka.add_argument("action", choices=["up", "down", "status"])
    kafka.set_defaults(run=_kafka)

    worker = commands.add_parser("worker", help="run one matching worker process (scale out by running more)",
                                 description="Consume challenges and companies, embed, rank, emit matches. "
                                 "Several processes with the same MATCHMAKER_APP_ID share the work.")
    worker.set_defaults(run=_worker)

    publish = commands.add_parser("publish", help="validate and publish a JSONL file of events",
                                  description="Validate every line first; publish nothing if a line is invalid.")
    publish.add_argument("kind", choices=["challenges", "companies"])
    publish.add_argument("file")
    publish.set_defaults(run=_publish)

    matches = commands.add_parser("matches", help="print MatchResults from the matches topic")
    matches.add_argument("--follow", action="store_true", help="keep waiting for new matches")
    matches.add_argument("--company", help="only this company_id")
    matches.add_argument("--challenge", help="only this challenge_id")
    matches.add_argument("--json", action="store_true", help="one MatchResult JSON per line")
    matches.set_defaults(run=_matches)

    rank = commands.add_parser("rank", help="rank offline, with the worker's matcher, from JSONL files")
    rank.add_argument("--challenges", required=True, help="challenges JSONL file")
    rank.add_argument("--companies", required=True, help="companies JSONL file")
    rank.add_argument("--top-k", type=int, default=None, help="list length (default MATCHMAKER_TOP_K)")
    rank.add_argument("--json", action="store_true", help="one JSON line per (challenge, company)")
    rank.set_defaults(run=_rank)

    evaluate = commands.add_parser("eval", help="measure ranking quality on a labeled directory",
                                   description="DIR holds challenges.jsonl, companies.jsonl, qrels.tsv and "
                                   "optionally city_excluded.tsv.")
    evaluate.add_argument("directory")
    evaluate.add_argument("--baselines", action="store_true", help="also dense-only and TF-IDF-only figures")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=_eval)

    demo = commands.add_parser("demo", help="start broker and worker, publish the sample data, print rankings",
                               description="Runs everything end to end on the sample data and stops what it started.")
    demo.add_argument("--json", action="store_true", help="print the MatchResult events (trigger challenge) as JSON lines")
    demo.set_defaults(run=_demo)

    api = commands.add_parser("api", help="serve the HTTP ingest API (MATCHMAKER_API_HOST/PORT)",
                              description="Publish challenges and profiles over HTTP, with per-publisher tokens.")
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

    from services.cli.delivery import add_delivery_commands  # subscribe, unsubscribe, notifier, inbox, inbox-token

    add_delivery_commands(commands)

    from services.cli.ops import add_commands as add_ops_commands  # lag, monitor

    add_ops_commands(commands)
    return parser


def _kafka(settings: Settings, args: argparse.Namespace) -> int:
    from services.kafka.local import LocalBroker

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


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from services.stream.worker import run_worker

    run_worker(settings)
    return 0


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
        if (args.company and result.company_id != args.company) or (args.challenge and result.challenge_id != args.challenge):
            continue
        if args.json:
            print(result.model_dump_json(), flush=True)
        else:
            print(f"{result.produced_at:%Y-%m-%d %H:%M:%S} {result.trigger:<9} {result.challenge_id:<14} "
                  f"{result.company_id:<12} rank {result.rank:>2} score {result.score:.3f}  {'; '.join(result.reasons)}",
                  flush=True)
    return 0


def _rank(settings: Settings, args: argparse.Namespace) -> int:
    from matcher import load_embedder, load_jsonl, rank_challenges_offline
    from schemas import Challenge, CompanyProfile

    challenges = load_jsonl(args.challenges, Challenge)
    companies = load_jsonl(args.companies, CompanyProfile)
    rankings = rank_challenges_offline(
        challenges, companies, load_embedder(settings.model), top_k=args.top_k or settings.top_k, min_score=settings.min_score
    )
    for challenge in challenges:
        for match in rankings[challenge.challenge_id]:
            if args.json:
                print(json.dumps({"challenge_id": match.challenge_id, "company_id": match.company_id,
                                  "rank": match.rank, "score": match.score}))
            else:
                print(f"{match.challenge_id:<14} {match.rank:>2}. {match.score:.3f} {match.company_id:<12} {'; '.join(match.reasons)}")
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from matcher import load_embedder
    from matcher.evaluate import evaluate, format_report

    report = evaluate(args.directory, load_embedder(settings.model), baselines=args.baselines)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.demo import run_demo

    return run_demo(settings, as_json=args.json)


def _api(settings: Settings, args: argparse.Namespace) -> int:
    from services.ingest.app import ApiSettings, serve

    api = ApiSettings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    serve(settings, api.model_copy(update=overrides))
    return 0


def _api_token(settings: Settings, args: argparse.Namespace) -> int:
    from services.ingest.app import ApiSettings
    from services.ingest.tokens import TokenStore

    store = TokenStore(ApiSettings().tokens_path(settings))
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
        print(f"matchmaker: no token {args.token_id}", file=sys.stderr)
        return 1
    else:
        print(f"revoked {args.token_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
