"""Alert fan-out for one challenge: the shortlist's ranking alone vs the same pass with alerts, in-process.

`python -m bench.alerts [N ...]` prints one JSON object (the bench runs it in its own process).

The companies are `bench.data`'s synthetic profiles, 500 distinct texts repeated under new ids; each gets
its template's real embedding plus a little noise (so the dense signal means what it means in the
worker, and pre-selection by it is measured honestly; random vectors would make every pair look
unrelated). Per N and share subscribed: the subscribed companies (every 1st, 10th or 100th row) get
thresholds spread over THRESHOLDS (on these data the shortlist's 10th score is about 0.8 and the
median of the top 2,000 about 0.6), and for 3 challenges the median of 5 runs of:

- `rank_companies`: the shortlist's own ranking (dense pass, top-2000 pool, hybrid score, top k);
- `alert_count`: finding every subscribed company at or above its threshold (its own dense pass, the
  bounded cascade of signals): the figure, compared with the shortlist's time;
- `rank_and_alert`: both from one dense pass, the alerts built (components, reasons): the difference to
  the shortlist alone, per alert emitted, is the cost of building each alert (the worker then sends it).

Also the alerts emitted per challenge (those outside the top k: sent with trigger "alert").
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from functools import partial

import numpy as np

from bench import data
from bench.inproc import _configure_torch, _upsert
from matcher import Ranker, challenge_text, company_text, load_embedder
from matcher import features as F
from services.model_env import use_offline_models
from services.settings import Settings

SHARES = (0.01, 0.1, 1.0)
THRESHOLDS = (0.6, 0.8)
NOISE = 0.15
TEMPLATES = 500
REPEAT = 5


def _median(fn) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _vectors(template_vectors: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = template_vectors[np.arange(n) % len(template_vectors)]
    noisy = base + NOISE * rng.normal(size=base.shape).astype(np.float32) / np.sqrt(base.shape[1])
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def fan_out(sizes: tuple[int, ...] = (10_000, 100_000)) -> dict:
    settings = Settings()
    _configure_torch(settings)
    embedder = load_embedder(settings.model)
    templates = data.companies(TEMPLATES, seed=21, prefix="tpl")
    template_features = [F.company_features(t) for t in templates]
    template_vectors = np.asarray(embedder.encode([company_text(t) for t in templates]), dtype=np.float32)
    challenges = data.challenges(3, seed=33, prefix="ach")
    queries = np.asarray(embedder.encode([challenge_text(c) for c in challenges]), dtype=np.float32)
    rows = []
    for n in sizes:
        ranker = Ranker(embedder.dimension, top_k=settings.top_k, min_score=settings.min_score)
        for i, vector in enumerate(_vectors(template_vectors, n, seed=n)):
            _upsert(ranker, templates, template_features, i, "aco", vector)
        ids = list(ranker._companies.vectors.ids)
        thresholds = np.random.default_rng(7).uniform(*THRESHOLDS, size=n)
        for share in SHARES:
            step = round(1 / share)
            for i, company_id in enumerate(ids):
                ranker.set_alert_threshold(company_id, float(thresholds[i]) if i % step == 0 else None)
            shortlist, selection, combined, emitted, found = [], [], [], [], []
            for challenge, query in zip(challenges, queries, strict=True):
                ranker.rank_and_alert(challenge, query)  # warm caches (the challenge's features)
                shortlist.append(_median(partial(ranker.rank_companies, challenge, query)))
                selection.append(_median(partial(ranker.alert_count, challenge, query)))
                combined.append(_median(partial(ranker.rank_and_alert, challenge, query)))
                top, alerts = ranker.rank_and_alert(challenge, query)
                listed = {m.company_id for m in top}
                emitted.append(sum(1 for m in alerts if m.company_id not in listed))
                found.append(len(alerts))
            short, select, both = (statistics.median(t) for t in (shortlist, selection, combined))
            row = {
                "n": n,
                "subscribed_share": share,
                "subscribed": len(range(0, n, step)),
                "shortlist_s": short,
                "selection_s": select,
                "shortlist_and_alerts_s": both,
                "ratio": select / short,
                "emitted": emitted,
                # the building cost per alert, where there are enough alerts to measure it
                "per_alert_us": 1e6 * max(0.0, both - short) / statistics.median(found)
                if statistics.median(found) >= 100
                else None,
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return {"thresholds": THRESHOLDS, "rows": rows}


if __name__ == "__main__":
    use_offline_models()
    sizes = tuple(int(a) for a in sys.argv[1:]) or (10_000, 100_000)
    print(json.dumps(fan_out(sizes)))
