"""In-process measurements: raw model throughput, one event's embed+rank time, ranking scale, memory.

`python -m bench.inproc memory N` runs in its own process (the bench starts it) so that its peak RSS
is the state's alone; it prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from functools import partial

import numpy as np

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


def _fill(
    ranker: Ranker,
    templates,
    template_features,
    vectors: np.ndarray,
    prefix: str,
    table: dict | None,
    model: str,
    shards: int,
) -> None:
    """Store len(vectors) companies: template texts under new ids, each upsert computing (from the
    feature cache, primed with its template's features) exactly what the worker's upsert stores."""
    for i, vector in enumerate(vectors):
        company = templates[i % len(templates)].model_copy(update={"company_id": f"{prefix}-{i:07d}"})
        if table is not None:
            table[company.company_id] = {
                "shard": i % shards,
                "version": company.version,
                "entity": company.model_dump(mode="json"),
                "vector": codec.encode_vector(vector),
                "model": model,
                "sent": True,
            }
        central, body, tags = F.company_fields(company)
        F.CACHE.put(
            ("company", company.company_id, company.version, F._digest(central, body, tags)),
            template_features[i % len(templates)],
        )
        ranker.upsert_company(company, vector)


def _time_ranking(ranker: Ranker, dimension: int) -> dict:
    """Full rank_companies for 3 challenges against everything stored (each query's first run, then the median
    of 3 more: the worker's steady state), and the bare product for the same N."""
    challenges = data.challenges(3, seed=33, prefix="mch")
    qvecs = data.unit_vectors(3, dimension, seed=34)
    bare = _median_time(lambda: ranker._companies.vectors.vectors @ qvecs[0], 7)
    first = []
    for c, v in zip(challenges, qvecs, strict=True):  # the first query of each: cold caches
        started = time.perf_counter()
        ranker.rank_companies(c, v)
        first.append(time.perf_counter() - started)
    runs = [_median_time(partial(ranker.rank_companies, c, v), 3) for c, v in zip(challenges, qvecs, strict=True)]
    return {"first_s": first, "rank_companies_s": runs, "median_s": statistics.median(runs), "bare_product_s": bare}


def memory(n: int, pool_texts: int = 500, rank_at=(10_000, 100_000)) -> dict:
    """Peak RSS of a process holding what a worker holds for n companies (one process owning every shard):

    the model; the `companies` table values exactly as the worker stores them (dicts with the entity
    as JSON-ready dict and the base64 vector); the Ranker (vectors, signal rows, attributes).
    Vectors are random unit vectors (no embedding); the texts come from a pool of `pool_texts`
    descriptions whose features are computed once. Also times a full rank_companies at the sizes in
    `rank_at` (a smaller ranker first, freed before the n-company state is built).
    """
    settings = Settings()
    out: dict = {"n": n}
    out["rss_start"] = vm_status("self")["VmRSS"]  # type: ignore[arg-type]
    _configure_torch(settings)
    embedder = load_embedder(settings.model)
    embedder.encode(["warm up the model"])
    out["rss_model"] = vm_status("self")["VmRSS"]  # type: ignore[arg-type]
    out["model_param_bytes"] = int(sum(p.numel() * p.element_size() for p in embedder._model.parameters()))
    templates = data.companies(pool_texts, seed=21, prefix="tpl")
    template_features = [F.company_features(t) for t in templates]
    timings = {}
    for m in rank_at:
        if m < n:
            small = Ranker(embedder.dimension, top_k=settings.top_k, min_score=settings.min_score)
            _fill(
                small,
                templates,
                template_features,
                data.unit_vectors(m, embedder.dimension, seed=6),
                "sco",
                None,
                embedder.name,
                settings.shards,
            )
            timings[str(m)] = _time_ranking(small, embedder.dimension)
            del small
    table: dict[str, dict] = {}
    ranker = Ranker(embedder.dimension, top_k=settings.top_k, min_score=settings.min_score)
    _fill(
        ranker,
        templates,
        template_features,
        data.unit_vectors(n, embedder.dimension, seed=5),
        "mco",
        table,
        embedder.name,
        settings.shards,
    )
    status = vm_status("self")  # type: ignore[arg-type]
    out.update(
        rss_state=status["VmRSS"],
        peak_rss=status["VmHWM"],
        vector_bytes=n * embedder.dimension * 4,
        signal_bytes=sum(rows.nbytes for rows in ranker._companies.signals.values()),
    )
    if n in rank_at:
        timings[str(n)] = _time_ranking(ranker, embedder.dimension)
    out["rank_full"] = timings
    out["peak_rss_end"] = vm_status("self")["VmHWM"]  # type: ignore[arg-type]
    return out


if __name__ == "__main__":
    use_offline_models()
    if sys.argv[1] == "memory":
        print(json.dumps(memory(int(sys.argv[2]))))
