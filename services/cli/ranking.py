"""`matchmaker rank` (offline ranking of JSONL files) and `matchmaker eval` (ranking quality on a labeled set)."""

from __future__ import annotations

import argparse
import json

from services.datasets import load_jsonl, load_labelled_set
from services.settings import Settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    rank = commands.add_parser("rank", help="rank offline, with the worker's matcher, from JSONL files")
    rank.add_argument("--challenges", required=True, help="challenges JSONL file")
    rank.add_argument("--companies", required=True, help="companies JSONL file")
    rank.add_argument("--top-k", type=int, default=None, help="list length (default MATCHMAKER_TOP_K)")
    rank.add_argument("--json", action="store_true", help="one JSON line per (challenge, company)")
    rank.set_defaults(run=_rank)

    evaluate = commands.add_parser(
        "eval",
        help="measure ranking quality on a labeled directory",
        description="DIR holds challenges.jsonl, companies.jsonl, qrels.tsv and optionally city_excluded.tsv.",
    )
    evaluate.add_argument("directory")
    evaluate.add_argument("--baselines", action="store_true", help="also dense-only and TF-IDF-only figures")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=_eval)


def _rank(settings: Settings, args: argparse.Namespace) -> int:
    from matcher import load_embedder, rank_challenges_offline
    from schemas import Challenge, CompanyProfile

    challenges = load_jsonl(args.challenges, Challenge)
    companies = load_jsonl(args.companies, CompanyProfile)
    rankings = rank_challenges_offline(
        challenges,
        companies,
        load_embedder(settings.model),
        top_k=args.top_k or settings.top_k,
        min_score=settings.min_score,
    )
    for challenge in challenges:
        for match in rankings[challenge.challenge_id]:
            if args.json:
                print(
                    json.dumps(
                        {
                            "challenge_id": match.challenge_id,
                            "company_id": match.company_id,
                            "rank": match.rank,
                            "score": match.score,
                        }
                    )
                )
            else:
                print(
                    f"{match.challenge_id:<14} {match.rank:>2}. {match.score:.3f} {match.company_id:<12} {'; '.join(match.reasons)}"
                )
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from matcher import load_embedder
    from matcher.evaluate import evaluate, format_report

    data = load_labelled_set(args.directory)  # read (and checked) before the slow part
    report = evaluate(data, load_embedder(settings.model), baselines=args.baselines)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0
