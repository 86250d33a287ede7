"""`make bench`: throughput, latency, ranking scale, memory, scale-out and state store, in one run, one table.

Runs on the bench's own local broker (127.0.0.1:59192, MATCHMAKER_BENCH_KAFKA_PORT), in fresh topics,
with real `matchmaker worker` processes; the alert fan-out rows (7, bench/alerts.py) need no broker. Writes
artifacts/bench.json (the measurements, `targets`: one row per target, see bench/targets.py, `settings`,
`machine`, `date`) and prints the table rendered from `targets`. `--strict` exits 1 when a target is
missed (`make bench-strict`).
`--stream-only` measures figures 1 and 2 alone and prints them as JSON (a quick look while tuning);
`--state-only` measures the state store rows (6) alone, prints them and writes artifacts/bench-state.json.
Sizes: MATCHMAKER_BENCH_BACKLOG (2000 events), MATCHMAKER_BENCH_SCALE_MAX (1000000: the largest N of the
dense retrieval and full hybrid rank rows), MATCHMAKER_BENCH_MEMORY_N (100000, in-process, once per table
store), MATCHMAKER_BENCH_STATE_SIZES (companies stored for rows 6, comma-separated: 10000; "10000,100000"
adds the 100k rows, about 13 more minutes on 2 cores). The worker's own knobs (MATCHMAKER_EMBED_BATCH_SIZE,
_WINDOW, _TORCH_THREADS) apply to both the worker and the in-process reference measurements.
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bench import data, inproc, state, targets
from bench.kafka import (
    bench_broker,
    broker_pid,
    cpu_seconds,
    publish,
    read_topic,
    vm_status,
)
from matcher import challenge_text, company_text
from schemas import CompanyProfile
from services.model_env import use_offline_models
from services.ops.progress import wait_until_drained
from services.settings import PROJECT_ROOT, Settings
from tests.support.broker import make_namespace
from tests.support.processes import WorkerProcess

ARTIFACTS = PROJECT_ROOT / "artifacts"
BACKLOG = int(os.environ.get("MATCHMAKER_BENCH_BACKLOG", "2000"))
SCALE_MAX = int(os.environ.get("MATCHMAKER_BENCH_SCALE_MAX", "1000000"))
MEMORY_N = int(os.environ.get("MATCHMAKER_BENCH_MEMORY_N", "100000"))
STATE_SIZES = tuple(int(n) for n in os.environ.get("MATCHMAKER_BENCH_STATE_SIZES", "10000").split(","))
RANK_SIZES = (10_000, 100_000, 1_000_000)  # full hybrid rank; those above MATCHMAKER_BENCH_SCALE_MAX are left out
# the settings that change the figures, recorded with them (`settings` in bench.json, the line under the table)
SETTINGS = (
    "embed_batch_size",
    "embed_batch_window",
    "torch_threads",
    "producer_linger",
    "shards",
    "partitions",
    "store",
    "model",
    "top_k",
)
RAW_SAMPLE = 192
CHALLENGE_SHARE = 0.1


def say(*args) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


def wait_ready(worker: WorkerProcess, timeout: float = 180.0) -> float:
    """Poll /readyz every 0.1 s; return the wall-clock time it first answered 200."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{worker.settings.worker_web_port}/readyz"
    while time.monotonic() < deadline:
        if not worker.alive:
            raise RuntimeError(f"worker exited; see {worker.log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.time()
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("worker not ready")


def throughput_and_latency(base: Settings, companies, challenges, raw: dict, one: dict) -> dict:
    settings = make_namespace(base)
    backlog = companies + challenges
    random.Random(4).shuffle(backlog)
    publish(settings, backlog)
    say(f"backlog of {len(backlog)} published; starting the worker")
    spawned = time.time()
    worker = WorkerProcess(settings, name="bench-throughput")
    try:
        ready = wait_ready(worker)
        broker = broker_pid(settings)
        cpu = {"worker": cpu_seconds(worker.process.pid), "broker": cpu_seconds(broker) if broker else 0.0}
        wait_until_drained(settings, timeout=900, alive=lambda: worker.alive, settle=1.0)
        cpu = {
            f"{name}_cpu_s": (cpu_seconds(pid) if pid else 0.0) - cpu[name]
            for name, pid in (("worker", worker.process.pid), ("broker", broker))
        }
        results = read_topic(settings, settings.topic_matches)
        last = max(r.timestamp_ms for r in results) / 1000.0
        drain = {
            "events": len(backlog),
            "results": len(results),
            "from_spawn_s": last - spawned,
            "from_ready_s": last - ready,
            "startup_s": ready - spawned,
            "per_s_from_ready": len(backlog) / (last - ready),
            "per_s_from_spawn": len(backlog) / (last - spawned),
            **cpu,
        }
        drain["ratio_to_raw"] = drain["per_s_from_ready"] / raw["per_s"]
        say(f"drained: {drain['per_s_from_ready']:.1f}/s from ready vs raw {raw['per_s']:.1f}/s")

        # latency at half the measured capacity: the pipeline's own drain rate just measured (offering half
        # the raw model rate would exceed what the pipeline drains and measure a growing queue instead)
        rate = drain["per_s_from_ready"] / 2
        seconds = 40
        n = max(40, int(rate * seconds))
        load = data.companies(int(n * (1 - CHALLENGE_SHARE)), seed=41, prefix="lco") + data.challenges(
            max(1, int(n * CHALLENGE_SHARE)), seed=42, prefix="lch"
        )
        random.Random(43).shuffle(load)
        from services.kafka.publisher import Publisher

        say(f"latency: {len(load)} events at {rate:.1f}/s")
        with Publisher.from_settings(settings) as pub:
            start = time.monotonic()
            for i, entity in enumerate(load):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if isinstance(entity, CompanyProfile):
                    pub.publish_company(entity)
                else:
                    pub.publish_challenge(entity)
                pub._producer.flush()  # send now: the record's timestamp is its arrival
        wait_until_drained(settings, timeout=600, alive=lambda: worker.alive, settle=1.0)
        inputs = {
            (("company" if r.value and "company_id" in r.value else "challenge"), r.key): r.timestamp_ms
            for t in (settings.topic_companies, settings.topic_challenges)
            for r in read_topic(settings, t)
        }
        done: dict[tuple[str, str], int] = {}
        for r in read_topic(settings, settings.topic_matches):
            v = r.value
            if v is None:
                continue
            key = (v["trigger"], v["challenge_id"] if v["trigger"] == "challenge" else v["company_id"])
            done[key] = max(done.get(key, 0), r.timestamp_ms)
        wanted = {
            ("company", e.company_id) if hasattr(e, "company_id") else ("challenge", e.challenge_id) for e in load
        }
        lat = [(done[k] - inputs[k]) / 1000.0 for k in wanted if k in done and k in inputs]
        by_kind = {
            kind: [(done[k] - inputs[k]) / 1000.0 for k in wanted if k[0] == kind and k in done and k in inputs]
            for kind in ("company", "challenge")
        }
        rss = vm_status(worker.process.pid)
        latency = {
            "offered_per_s": rate,
            "events": len(load),
            "with_results": len(lat),
            "p50_s": float(np.percentile(lat, 50)),
            "p99_s": float(np.percentile(lat, 99)),
            "max_s": float(max(lat)),
            "one_event_s": one["median_s"],
            **{f"{kind}_p{q}_s": float(np.percentile(v, q)) for kind, v in by_kind.items() if v for q in (50, 99)},
        }
        latency["p50_ratio"] = latency["p50_s"] / one["median_s"]
        latency["p99_ratio"] = latency["p99_s"] / one["median_s"]
        say(f"latency p50 {latency['p50_s']:.3f}s p99 {latency['p99_s']:.3f}s (one event {one['median_s']:.3f}s)")
        return {"drain": drain, "latency": latency, "worker_rss": rss}
    finally:
        worker.stop()


def scale_out(base: Settings, n_companies: int, n_challenges: int) -> dict:
    """Companies first (drained), then challenges: each challenge's ranking then sees every company,
    whatever the arrival order inside a backlog, so the trigger=challenge match_ids must be equal."""
    companies = data.companies(n_companies, seed=51, prefix="sco")
    challenges = data.challenges(n_challenges, seed=52, prefix="sch")
    out: dict[int, dict[str, Any]] = {}
    for workers in (1, 3):
        settings = make_namespace(base)
        procs = [
            WorkerProcess(
                settings.model_copy(update={"worker_web_port": 0 or _free_port()}), name=f"scale{workers}-{i}"
            )
            for i in range(workers)
        ]
        started = time.monotonic()
        try:

            def alive(procs: list = procs) -> bool:
                return all(p.alive for p in procs)

            publish(settings, companies)
            wait_until_drained(settings, timeout=900, alive=alive, settle=2.0)
            publish(settings, challenges)
            wait_until_drained(settings, timeout=900, alive=alive, settle=2.0)
            results = [r.value for r in read_topic(settings, settings.topic_matches) if r.value is not None]
        finally:
            for p in procs:
                p.stop()
        ids = {r["match_id"] for r in results if r["trigger"] == "challenge"}
        out[workers] = {"match_ids": sorted(ids), "results": len(results), "seconds": time.monotonic() - started}
        say(f"scale-out: {workers} worker(s): {len(ids)} challenge match_ids in {out[workers]['seconds']:.0f}s")
    return {
        "companies": n_companies,
        "challenges": n_challenges,
        "one": len(out[1]["match_ids"]),
        "three": len(out[3]["match_ids"]),
        "equal": out[1]["match_ids"] == out[3]["match_ids"],
        "seconds_one": out[1]["seconds"],
        "seconds_three": out[3]["seconds"],
    }


def _free_port() -> int:
    from tests.support.broker import free_port

    return free_port()


def child(*args: str, module: str = "bench.inproc") -> Any:
    """`python -m MODULE ARGS` in its own process (its RSS is its state's alone); its last stdout line, as JSON."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """What the table's line under it names: the CPU, its cores, the memory, and how busy the host was."""
    out: dict[str, Any] = {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_start": os.getloadavg()[0]}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            out["cpu_model"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
        out["memory_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, StopIteration, ValueError):
        pass
    return out


def model_file_bytes(settings: Settings) -> int:
    from matcher.embedding import _resolve_model_path

    root = _resolve_model_path(settings.model)
    return sum(
        os.path.getsize(os.path.join(d, f))
        for d, _, fs in os.walk(root)
        for f in fs
        if f.endswith((".safetensors", ".bin"))
    )


def state_only() -> int:
    """Rows 6 alone: no model in this process, only the workers'."""
    with bench_broker() as base:
        results = state.measure(base, STATE_SIZES)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bench-state.json").write_text(json.dumps(results, indent=2))
    print(targets.render(targets.state_rows(results)))
    return 0


def main() -> int:
    use_offline_models()  # this process loads the model, and the memory child inherits the environment
    if "--state-only" in sys.argv:
        return state_only()
    began = time.monotonic()
    settings = Settings()
    result: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {k: getattr(settings, k) for k in SETTINGS},
        "machine": machine(),
    }
    n_ch = int(BACKLOG * CHALLENGE_SHARE)
    companies, challenges = data.companies(BACKLOG - n_ch), data.challenges(n_ch)
    texts = [company_text(c) for c in companies[: RAW_SAMPLE - RAW_SAMPLE // 10]] + [
        challenge_text(c) for c in challenges[: RAW_SAMPLE // 10]
    ]
    result["text_words_mean"] = float(np.mean([len(t.split()) for t in texts]))
    say("raw encode ...")
    result["raw_encode"] = inproc.raw_encode_rate(settings, texts)
    say(f"raw encode {result['raw_encode']['per_s']:.1f}/s; one event ...")
    result["one_event"] = inproc.one_event_seconds(
        settings,
        companies,
        challenges,
        data.companies(18, seed=61, prefix="pco"),
        data.challenges(2, seed=62, prefix="pch"),
    )
    with bench_broker() as base:
        result.update(throughput_and_latency(base, companies, challenges, result["raw_encode"], result["one_event"]))
        if "--stream-only" in sys.argv:  # a quick look at figures 1 and 2 while tuning; no table
            print(
                json.dumps(
                    {k: result[k] for k in ("raw_encode", "one_event", "drain", "latency", "worker_rss")}, indent=2
                )
            )
            return 0
        result["scale_out"] = scale_out(base, 300, 30)
        say(f"state store: {', '.join(f'{n:,}' for n in STATE_SIZES)} companies ...")
        result["state_store"] = state.measure(base, STATE_SIZES)
    say("dense scale ...")
    result["dense_scale"] = inproc.dense_scale(tuple(n for n in (10_000, 100_000, 1_000_000) if n <= SCALE_MAX))
    rank_sizes = [n for n in RANK_SIZES if n <= SCALE_MAX]
    say(f"full hybrid rank at {', '.join(f'{n:,}' for n in rank_sizes)} (own process) ...")
    result["rank_full"] = child("rank", ",".join(map(str, rank_sizes)))
    result["memory"] = {}
    for store in inproc.STORES:
        say(f"memory, {MEMORY_N:,} companies, {store} store (own process) ...")
        result["memory"][store] = child("memory", str(MEMORY_N), store)
        result["memory"][store]["model_file_bytes"] = model_file_bytes(settings)
    say("alert fan-out (own process) ...")
    result["alerts"] = child(*(str(n) for n in (10_000, 100_000) if n <= SCALE_MAX), module="bench.alerts")
    result["machine"]["loadavg_end"] = os.getloadavg()[0]
    result["total_seconds"] = time.monotonic() - began
    result["targets"] = targets.targets(result)
    result["table"] = targets.render(result["targets"])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bench.json").write_text(json.dumps(result, indent=2, default=str))
    print(result["table"])
    print(f"\n(total {result['total_seconds']:.0f}s; details in artifacts/bench.json)")
    missed = targets.missed(result["targets"])
    if missed:
        say(f"{len(missed)} target(s) missed: " + "; ".join(t["name"] for t in missed))
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
