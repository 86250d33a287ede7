"""In-process measurements: raw model throughput, one event's embed+rank time, ranking scale, memory.

`python -m bench.inproc memory N [memory|rocksdb]` runs in its own process (the bench starts one per store)
so that its peak RSS is the state's alone; `python -m bench.inproc rank 10000,100000` times the full hybrid
rank at each size, also in its own process (a million companies' Ranker is ~3.5 GB). Each prints one JSON
object.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from faust.serializers import codecs

from bench import data
from bench.kafka import vm_status
from matcher import Ranker, challenge_text, company_text, load_embedder
from matcher import features as F
from matcher.index import VectorIndex
from services.kafka import codec
from services.model_env import use_offline_models
from services.settings import Settings


def _configure_torch(settings: Settings) -> int:
    import torch

    if settings.torch_threads:  # exactly what the worker does
        torch.set_num_threads(settings.torch_threads)
    return torch.get_num_threads()


def raw_encode_rate(settings: Settings, texts: list[str]) -> dict:
    """Batched encode throughput of the configured model on these texts, in the worker's batch size."""
    threads = _configure_torch(settings)
    embedder = load_embedder(settings.model)
    embedder.encode(texts[: settings.embed_batch_size])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(texts), settings.embed_batch_size):
        embedder.encode(texts[i : i + settings.embed_batch_size])
    elapsed = time.perf_counter() - started
    return {
        "texts": len(texts),
        "seconds": elapsed,
        "per_s": len(texts) / elapsed,
        "torch_threads": threads,
        "batch": settings.embed_batch_size,
    }


def one_event_seconds(settings: Settings, companies, challenges, probes_co, probes_ch) -> dict:
    """Median in-process time to embed one event (batch of 1) and rank it against state of this size.

    One Ranker holds everything (the worker splits companies over shards: less work per shard), so
    this is a conservative baseline. Stored vectors are random unit vectors (ranking cost does not
    depend on them); the probes are embedded for real.
    """
    embedder = load_embedder(settings.model)
    ranker = Ranker(embedder.dimension, top_k=settings.top_k, min_score=settings.min_score)
    vectors = data.unit_vectors(len(companies) + len(challenges), embedder.dimension, seed=11)
    for c, v in zip(companies, vectors, strict=False):  # vectors holds the challenges too, after the companies
        ranker.upsert_company(c, v)
    for c, v in zip(challenges, vectors[len(companies) :], strict=True):
        ranker.upsert_challenge(c, v)
    times = []
    for entity in probes_co + probes_ch:
        is_company = entity in probes_co
        started = time.perf_counter()
        text = company_text(entity) if is_company else challenge_text(entity)
        vector = embedder.encode([text])[0]
        if is_company:
            ranker.upsert_company(entity, vector)
            ranker.rank_challenges(entity, vector)
        else:
            ranker.upsert_challenge(entity, vector)
            ranker.rank_companies(entity, vector)
        times.append(time.perf_counter() - started)
    return {"events": len(times), "median_s": statistics.median(times), "p90_s": float(np.percentile(times, 90))}


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def dense_scale(sizes=(10_000, 100_000, 1_000_000), dimension: int = 384, pool: int = 2000) -> list[dict]:
    """Per N: the bare matrix-vector product vs the Ranker's dense retrieval, the same code it runs: the
    similarities, the rules as a mask over N rows (random statuses and cities) and the top-`pool` candidates
    by a partial sort; then upsert/delete times."""
    return [_dense_row(n, dimension, pool) for n in sizes]  # one size at a time: each frees its arrays


def _dense_row(n: int, dimension: int, pool: int) -> dict:
    from matcher.ranker import candidate_rows, companies_allowed
    from matcher.store import Columns

    index = VectorIndex(dimension)
    matrix = data.unit_vectors(n, dimension, seed=n)
    started = time.perf_counter()
    for i in range(n):
        index.upsert(f"c{i}", matrix[i])
    load_s = time.perf_counter() - started
    rng = np.random.default_rng(n)
    columns = Columns({"usable": np.bool_, "cities": np.uint8}, capacity=n)
    columns._arrays["usable"][:] = rng.random(n) < 0.97
    columns._arrays["cities"][:] = rng.integers(1, 64, n)
    columns._rows = n
    query = data.unit_vectors(1, dimension, seed=7)[0]
    bare = _median_time(lambda: matrix @ query, 7)

    def retrieve():
        return candidate_rows(index.similarities(query), companies_allowed(columns, "Oulu"), pool)

    retrieve_s = _median_time(retrieve, 7)
    sims_s = _median_time(lambda: index.similarities(query), 7)
    extra = data.unit_vectors(200, dimension, seed=9)
    up = []
    for i in range(100):  # new ids (append) and existing ids (overwrite in place)
        started = time.perf_counter()
        index.upsert(f"new{i}" if i % 2 else f"c{i * 7}", extra[i])
        up.append(time.perf_counter() - started)
    rm = []
    for i in range(100):
        started = time.perf_counter()
        index.remove(f"c{i * 13 + 1}")
        rm.append(time.perf_counter() - started)
    return {
        "n": n,
        "bare_s": bare,
        "similarities_s": sims_s,
        "dense_retrieval_s": retrieve_s,
        "ratio": retrieve_s / bare,
        "upsert_us": 1e6 * statistics.median(up),
        "upsert_max_us": 1e6 * max(up),
        "delete_us": 1e6 * statistics.median(rm),
        "delete_max_us": 1e6 * max(rm),
        "load_s": load_s,
    }


FILL_CHUNK = 10_000


def _vectors(n: int, dimension: int, seed: int):
    """(i, vector) for n random unit vectors, made FILL_CHUNK at a time: the bench holds no n-row array of
    its own, so the state measured is the worker's alone."""
    for start in range(0, n, FILL_CHUNK):
        block = data.unit_vectors(min(FILL_CHUNK, n - start), dimension, seed=seed + start)
        for j, vector in enumerate(block):
            yield start + j, vector


def _company(templates, i: int, prefix: str):
    return templates[i % len(templates)].model_copy(update={"company_id": f"{prefix}-{i:07d}"})


def _upsert(ranker: Ranker, templates, template_features, i: int, prefix: str, vector: np.ndarray) -> None:
    """Store company i: its template's text under a new id, the upsert computing (from the feature cache,
    primed with the template's features) exactly what the worker's upsert stores."""
    company = _company(templates, i, prefix)
    central, body, tags = F.company_fields(company)
    F.CACHE.put(
        ("company", company.company_id, company.version, F._digest(central, body, tags)),
        template_features[i % len(templates)],
    )
    ranker.upsert_company(company, vector)


def _fill(ranker: Ranker, templates, template_features, n: int, dimension: int, prefix: str, seed: int) -> None:
    for i, vector in _vectors(n, dimension, seed):
        _upsert(ranker, templates, template_features, i, prefix, vector)


def _time_ranking(ranker: Ranker, dimension: int) -> dict:
    """Full rank_companies for 3 challenges against everything stored (each query's first run, then the median
    of 3 more: the worker's steady state), and the bare product for the same N."""
    challenges = data.challenges(3, seed=33, prefix="mch")
    qvecs = data.unit_vectors(3, dimension, seed=34)
    matrix = ranker._companies.vectors.vectors
    bare = _median_time(lambda: matrix @ qvecs[0], 7)
    first = []
    for c, v in zip(challenges, qvecs, strict=True):  # the first query of each: cold caches
        started = time.perf_counter()
        ranker.rank_companies(c, v)
        first.append(time.perf_counter() - started)
    runs = [_median_time(partial(ranker.rank_companies, c, v), 3) for c, v in zip(challenges, qvecs, strict=True)]
    return {"first_s": first, "rank_companies_s": runs, "median_s": statistics.median(runs), "bare_product_s": bare}


def rank_full(sizes=(10_000, 100_000, 1_000_000), dimension: int = 384, pool_texts: int = 500) -> dict[str, dict]:
    """Per N: a full rank_companies (pool 2000, every signal) against N stored companies, and the bare
    matrix-vector product over the same rows. No model: stored vectors are random unit vectors, and the
    texts come from a pool of `pool_texts` descriptions whose features are computed once."""
    templates = data.companies(pool_texts, seed=21, prefix="tpl")
    template_features = [F.company_features(t) for t in templates]
    out = {}
    for n in sizes:  # one size at a time: each Ranker is freed before the next
        ranker = Ranker(dimension)
        started = time.perf_counter()
        _fill(ranker, templates, template_features, n, dimension, "rco", seed=6)
        filled = {"n": n, "fill_s": time.perf_counter() - started, "rss_filled": _rss()}
        out[str(n)] = {**filled, **_time_ranking(ranker, dimension)}
        del ranker
    return out


def _rss() -> int:
    return vm_status("self")["VmRSS"]  # type: ignore[arg-type]


class _RocksTable:
    """The `companies` table as the worker's RocksDB store keeps it: one database per shard (partition),
    opened by Faust's own RocksDBOptions with the worker's options (ROCKSDB_OPTIONS), JSON keys and values."""

    def __init__(self, directory: Path, shards: int) -> None:
        from faust.stores.rocksdb import RocksDBOptions

        from services.kafka.faust_app import ROCKSDB_OPTIONS

        self.directory = directory
        options: dict[str, Any] = dict(ROCKSDB_OPTIONS)  # as the worker gives them to its tables
        self.dbs = [RocksDBOptions(**options).open(directory / f"companies-{p}.db") for p in range(shards)]

    def put(self, key: str, record: dict) -> None:
        self.dbs[record["shard"]].put(codecs.dumps("json", key), codecs.dumps("json", record))

    def vectors(self):
        """(company id, vector) of every record, read back as the worker's index rebuild reads them."""
        for db in self.dbs:
            for key, value in db.items():
                yield codecs.loads("json", key), codec.decode_vector(codecs.loads("json", value)["vector"])

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.directory.rglob("*") if f.is_file())

    def close(self) -> None:
        for db in self.dbs:
            db.close()


class _DictTable:
    """The `companies` table as the memory store keeps it: the decoded records on the heap."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}

    def put(self, key: str, record: dict) -> None:
        self.records[key] = record

    def vectors(self):
        for key, record in self.records.items():
            yield key, codec.decode_vector(record["vector"])

    def disk_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass


STORES = ("memory", "rocksdb")


def _signal_bytes_in_use(ranker: Ranker) -> int:
    """The signal rows' bytes in the slots used: their blocks grow by doubling and their unused slots are
    zero pages the kernel has not mapped, so the allocation overstates the resident size by up to 2x."""
    return sum(rows.bytes_in_use for rows in ranker._companies.signals.values())


def memory(n: int, store: str = "memory", pool_texts: int = 500) -> dict:
    """RSS of a process holding what a worker holds for n companies (one process owning every shard), in parts.

    baseline: the process after imports, the model's load (and one encode), the language resources and
    the feature tables, all loaded before any state, whatever n is; table records: the RSS
    growth while the `companies` table is filled with the records the worker stores (shard, version, entity
    as JSON-ready dict, base64 vector, model) and read once, in a dict (`memory` store) or in RocksDB
    databases with the worker's options in a temporary directory (`rocksdb` store); Ranker: the RSS growth while the Ranker is
    filled from the table's records, as a restarted worker rebuilds it (vectors and signal rows are their
    arrays' sizes); peak: VmHWM at the end. Vectors are random unit vectors (no embedding); the texts come
    from a pool of `pool_texts` descriptions whose features are computed once.
    """
    import faust.stores.rocksdb  # noqa: F401  the worker imports Faust and its stores: part of the baseline

    from matcher.bridge import preload as preload_language_resources

    if store not in STORES:
        raise ValueError(f"store must be one of {STORES}")
    settings = Settings()
    out: dict = {"n": n, "store": store, "rss_start": _rss()}
    _configure_torch(settings)
    embedder = load_embedder(settings.model)
    embedder.encode(["warm up the model"])
    # what a worker loads before its first event whatever N is: the language resources (run_worker preloads
    # them) and the matcher's feature tables (read on the first text)
    preload_language_resources()
    F.company_features(data.companies(1, seed=20, prefix="warm")[0])
    out["rss_baseline"] = _rss()
    out["model_param_bytes"] = int(sum(p.numel() * p.element_size() for p in embedder._model.parameters()))
    templates = data.companies(pool_texts, seed=21, prefix="tpl")
    template_features = [F.company_features(t) for t in templates]
    dimension = embedder.dimension
    with tempfile.TemporaryDirectory(prefix="bench-rocksdb-") as directory:
        table = _RocksTable(Path(directory), settings.shards) if store == "rocksdb" else _DictTable()
        before = _rss()
        started = time.perf_counter()
        for i, vector in _vectors(n, dimension, seed=5):
            company = _company(templates, i, "mco")
            record = {
                "shard": i % settings.shards,
                "version": company.version,
                "entity": company.model_dump(mode="json"),
                "vector": codec.encode_vector(vector),
                "model": embedder.name,
                "sent": True,
            }
            table.put(company.company_id, record)
        out["table_fill_s"] = time.perf_counter() - started
        for _ in table.vectors():  # one full read first, as a rebuild reads it: RocksDB's block cache is the table's
            pass
        out["rss_table_records"] = _rss() - before
        ranker = Ranker(dimension, top_k=settings.top_k, min_score=settings.min_score)
        before = _rss()
        started = time.perf_counter()
        for company_id, vector in table.vectors():
            _upsert(ranker, templates, template_features, int(company_id.rpartition("-")[2]), "mco", vector)
        out["ranker_fill_s"] = time.perf_counter() - started
        out["rss_ranker"] = _rss() - before
        status = vm_status("self")  # type: ignore[arg-type]
        out.update(
            companies_in_index=ranker.n_companies,
            rss_end=status["VmRSS"],
            peak_rss=status["VmHWM"],
            vector_bytes=n * dimension * 4,
            signal_bytes=_signal_bytes_in_use(ranker),
            signal_bytes_allocated=sum(rows.nbytes for rows in ranker._companies.signals.values()),
            table_disk_bytes=table.disk_bytes(),
        )
        table.close()
    return out


def main(argv: list[str]) -> None:
    """`memory N [memory|rocksdb]` or `rank N[,N...]`: one JSON object on stdout."""
    use_offline_models()
    if argv[0] == "memory":
        print(json.dumps(memory(int(argv[1]), argv[2] if len(argv) > 2 else "memory")))
    elif argv[0] == "rank":
        print(json.dumps(rank_full(tuple(int(n) for n in argv[1].split(",")))))
    else:
        raise SystemExit(f"unknown measurement {argv[0]!r}: memory or rank")


if __name__ == "__main__":
    main(sys.argv[1:])
