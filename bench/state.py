"""`make bench`, state store rows: a worker's restart with N companies stored, RocksDB against memory.

Seeding without the model (embedding 100,000 texts would take an hour here): N company records go
straight into the worker's `companies` changelog, as the shard stage writes them once a company's
outputs are confirmed (`EntityRecord`: shard, version, entity, vector, model, sent=True; key = the
company id as Faust's json serializer writes it; partition = the company's shard). Texts are the bench's
synthetic profiles (bench/data.py), vectors random unit vectors of the model's dimension, `model` the
name of the model the worker loads: the worker takes them for its own and embeds nothing.

Per size, on one namespace (so both stores restore the same changelog), each start timed from the spawn:
 1. rocksdb, first start on an empty data directory: reads the whole changelog into RocksDB; SIGTERM;
 2. rocksdb, started again on the same directory: the measured restart;
 3. memory, started after that SIGTERM: the measured restart (the memory store keeps nothing between
    processes, so any start of it reads the whole changelog).
Recorded for each: /readyz answers 200 (partitions assigned, tables recovered); the index built
(`matchmaker_entities_in_index{kind="company"}` = N: every shard rebuilt its Ranker from the table);
the changelog records read (`matchmaker_changelog_records_recovered_total`); VmRSS once the index is built.
The rebuild runs on the event loop right after recovery, one shard at a time, so /readyz answers only
between two shards' rebuilds or after the last; the worker's own log (INFO, JSON lines) gives the time
the tables were recovered (Faust's "Worker ready") and each shard's index built ("shard N ready").
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from faust.serializers import codecs

from bench import data
from bench.kafka import vm_status
from matcher.embedding import _PACKAGED_MODELS, DEFAULT_MODEL
from services.kafka import clients, codec
from services.kafka.faust_app import data_dir
from services.kafka.topics import create_missing, worker_topic_specs
from services.settings import Settings
from services.stream.messages import EntityRecord
from services.stream.routing import shard_of
from tests.support.broker import make_namespace
from tests.support.kafka import metric, scrape
from tests.support.processes import WorkerProcess

DIMENSION = 384  # all-MiniLM-L6-v2, the default model


def say(*args: object) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


def model_name(settings: Settings) -> str:
    """The name the worker's embedder will report for `settings.model` (stored with every vector)."""
    return DEFAULT_MODEL if settings.model in _PACKAGED_MODELS else settings.model


def seed(settings: Settings, n: int) -> None:
    """N embedded companies in the worker's `companies` changelog, as its shard stage writes them."""
    create_missing(settings, worker_topic_specs(settings))
    topic = f"{settings.app_id}-companies-changelog"
    name = model_name(settings)
    producer = clients.producer(settings, client_id="matchmaker-bench-seed", linger_ms=20, batch_size=512 * 1024)
    try:
        for start in range(0, n, 10_000):
            companies = data.companies(min(10_000, n - start), seed=70 + start, prefix=f"st{start // 10_000:03d}")
            vectors = data.unit_vectors(len(companies), DIMENSION, seed=71 + start)
            for company, vector in zip(companies, vectors, strict=True):
                shard = shard_of(company.company_id, settings.shards)
                record = EntityRecord(
                    shard, company.version, company.model_dump(mode="json"), codec.encode_vector(vector), name, True
                )
                producer.send(
                    topic,
                    key=codecs.dumps("json", company.company_id),
                    value=codecs.dumps("json", record.to_dict()),
                    partition=shard,
                )
        producer.flush(timeout=600)
    finally:
        producer.close()


def _index_size(port: int) -> float | None:
    try:
        return metric(scrape(port), "matchmaker_entities_in_index", kind="company")
    except OSError:  # the event loop is busy rebuilding a shard's index; ask again
        return None


def milestones(log: Path, spawned: float) -> dict[str, float | None]:
    """Seconds from the spawn (wall clock) to the first "Worker ready" of Faust's recovery and to the last
    "shard N ready" of the shard stage, from the worker's JSON log lines."""
    recovered = indexed = None
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = str(record.get("message", ""))
        at = datetime.fromisoformat(record["time"]).timestamp() - spawned
        if recovered is None and record.get("logger") == "faust.tables.recovery" and "Worker ready" in message:
            recovered = at
        elif record.get("logger") == "matchmaker.worker" and message.startswith("shard ") and " ready: " in message:
            indexed = at
    return {"recovered_log_s": recovered, "indexed_log_s": indexed}


def start(settings: Settings, n: int, name: str, timeout: float = 3600.0) -> tuple[WorkerProcess, dict[str, Any]]:
    """Spawn a worker; wait until /readyz says 200 and then until its index holds all n companies."""
    settings = settings.model_copy(update={"log_level": "INFO", "log_format": "json"})  # for `milestones`
    spawned_wall, spawned = time.time(), time.monotonic()
    worker = WorkerProcess(settings, name=name)
    url = f"http://127.0.0.1:{settings.worker_web_port}/readyz"
    ready = None
    while True:
        if not worker.alive:
            raise RuntimeError(f"worker exited; see {worker.log}")
        if time.monotonic() - spawned > timeout:
            worker.stop()
            raise TimeoutError(f"{name}: not ready with {n} companies indexed after {timeout}s; see {worker.log}")
        if ready is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        ready = time.monotonic()
            except OSError:
                pass
        elif (_index_size(settings.worker_web_port) or 0) >= n:
            break
        time.sleep(0.25)
    indexed = time.monotonic()
    assert ready is not None  # the loop waits for the index only once /readyz said 200
    samples = scrape(settings.worker_web_port)
    status = vm_status(worker.process.pid)
    figures: dict[str, Any] = {
        "ready_s": ready - spawned,
        "indexed_s": indexed - spawned,
        "changelog_records_read": metric(samples, "matchmaker_changelog_records_recovered_total", table="companies"),
        "rss_bytes": status["VmRSS"],
        "peak_rss_bytes": status["VmHWM"],
        **milestones(worker.log, spawned_wall),
    }
    say(
        f"state {name}: tables recovered {figures['recovered_log_s'] or float('nan'):.1f}s, ready "
        f"{figures['ready_s']:.1f}s, index {figures['indexed_s']:.1f}s, "
        f"{figures['changelog_records_read']:.0f} records read, RSS {figures['rss_bytes'] / 2**20:.0f} MB"
    )
    return worker, figures


def one_size(base: Settings, n: int) -> dict[str, Any]:
    settings = make_namespace(base, store="rocksdb")
    began = time.monotonic()
    seed(settings, n)
    out: dict[str, Any] = {"n": n, "seed_s": time.monotonic() - began}
    say(f"state: {n} companies seeded in {out['seed_s']:.0f}s")
    try:
        for label, store in (("rocksdb_first_start", "rocksdb"), ("rocksdb_restart", "rocksdb"), ("memory", "memory")):
            worker, out[label] = start(settings.model_copy(update={"store": store}), n, f"state-{n}-{label}")
            worker.stop()  # SIGTERM, as a deployment's rolling restart does
        datadir = data_dir(settings, settings.app_id, settings.worker_web_port)
        out["rocksdb_disk_bytes"] = sum(f.stat().st_size for f in datadir.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(data_dir(settings, settings.app_id, settings.worker_web_port), ignore_errors=True)
    return out


def measure(base: Settings, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    return [one_size(base, n) for n in sizes]
