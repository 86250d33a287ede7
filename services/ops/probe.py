"""A container health check: `python -m services.ops.probe URL` exits 0 when URL answers 2xx within 3 seconds.

The project image has Python but no curl; docker compose health checks run this inside the container.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m services.ops.probe URL", file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(args[0], timeout=3) as response:  # a local URL from the manifest
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"probe {args[0]}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
