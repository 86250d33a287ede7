"""Run one test many times at each embedding batch window and count the passes.

    python -m bench.repeat --runs 10 --windows 0.01,0.05 [NODEID]

A loss or stall that shows once in a few runs is invisible in one `make test`; this is how the SIGKILL
test's pass counts in the README were measured. Each run is a fresh pytest process (and a fresh
namespace on the test broker); results go to artifacts/repeat.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SIGKILL_TEST = "tests/integration/services/stream/test_failures.py::test_sigkill_of_a_worker_mid_stream_loses_nothing"


def run_once(nodeid: str, window: str, log: Path) -> tuple[bool, float]:
    """One pytest process; its output is kept in `log` when it fails."""
    env = {**os.environ, "MATCHMAKER_EMBED_BATCH_WINDOW": window}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", nodeid],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(done.stdout + done.stderr)
    return done.returncode == 0, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("nodeid", nargs="?", default=SIGKILL_TEST)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--windows", default="0.01,0.05", help="MATCHMAKER_EMBED_BATCH_WINDOW values, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("artifacts/repeat.json"))
    args = parser.parse_args(argv)
    report: dict[str, dict] = {}
    for window in args.windows.split(","):
        outcomes = []
        for run in range(1, args.runs + 1):
            log = args.out.parent / "repeat-logs" / f"window-{window}-run-{run}.log"
            passed, seconds = run_once(args.nodeid, window, log)
            outcomes.append({"passed": passed, "seconds": round(seconds, 1)})
            print(
                f"window {window} s, run {run}/{args.runs}: {'pass' if passed else 'FAIL'} ({seconds:.0f} s)",
                flush=True,
            )
        report[window] = {"passed": sum(o["passed"] for o in outcomes), "runs": args.runs, "outcomes": outcomes}
    for window, result in report.items():
        print(f"window {window} s: {result['passed']}/{result['runs']} passed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"test": args.nodeid, "windows": report}, indent=2) + "\n")
    return 0 if all(r["passed"] == r["runs"] for r in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
