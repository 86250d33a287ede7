"""Profile a worker draining a backlog with py-spy (a dev tool: `.venv/bin/pip install py-spy`).

    .venv/bin/python -m bench.profile [--companies 600] [--challenges 60] [--seconds 60]

Writes artifacts/profile-worker.txt (py-spy's raw collapsed stacks) and prints the top frames by own
and by total time, all threads together.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import subprocess
import sys
import time

from bench import data
from bench.kafka import bench_broker, publish
from services.settings import PROJECT_ROOT
from tests.support.broker import make_namespace
from tests.support.processes import WorkerProcess

ARTIFACTS = PROJECT_ROOT / "artifacts"


def summarize(collapsed: str, top: int = 25) -> str:
    own: collections.Counter = collections.Counter()
    total: collections.Counter = collections.Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    lines = [f"{samples} samples"]
    lines += ["-- own time --"] + [f"{100 * n / samples:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["-- total time --"] + [f"{100 * n / samples:5.1f}%  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=600)
    parser.add_argument("--challenges", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(PROJECT_ROOT / ".venv" / "bin" / "py-spy")
    with bench_broker() as base:
        settings = make_namespace(base)
        backlog = data.companies(args.companies) + data.challenges(args.challenges)
        random.Random(5).shuffle(backlog)
        publish(settings, backlog)
        worker = WorkerProcess(settings, name="profile")
        try:
            time.sleep(8)  # model loading is not what we profile
            out = ARTIFACTS / "profile-worker.txt"
            subprocess.run(
                [
                    spy,
                    "record",
                    "-p",
                    str(worker.process.pid),
                    "-d",
                    str(args.seconds),
                    "-r",
                    "50",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "--nonblocking",
                ],
                check=True,
            )
            print(summarize(out.read_text()))
        finally:
            worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
