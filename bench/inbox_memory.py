"""The inbox's memory per stored match and the resulting bound per company (docs/operators.md).

.venv/bin/python -m bench.inbox_memory [--matches 10000]
"""

from __future__ import annotations

import argparse

from services.settings import Settings
from tests.support.inbox import inbox_bytes_per_match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000, help="matches to store (one company)")
    args = parser.parse_args()
    per_match = inbox_bytes_per_match(args.matches)
    cap = Settings().delivery.inbox_max_per_company
    print(f"{per_match:.0f} bytes per stored match (tracemalloc, {args.matches} matches)")
    print(f"MATCHMAKER_INBOX_MAX_PER_COMPANY={cap}: at most {per_match * cap / 2**20:.2f} MiB per company")


if __name__ == "__main__":
    main()
