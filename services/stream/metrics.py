"""Prometheus metrics of a worker process (served at /metrics on the worker's web port)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_CONSUMED = Counter(
    "matchmaker_events_consumed_total", "Events read from an input topic.", ["topic"], registry=REGISTRY
)
DEAD_LETTERS = Counter(
    "matchmaker_dead_letters_total",
    "Input messages sent to the dead-letter topic, by reason.",
    ["reason"],
    registry=REGISTRY,
)
IGNORED_VERSIONS = Counter(
    "matchmaker_ignored_events_total",
    "Events not applied: an older version (stale) or the same version again (duplicate).",
    ["kind", "why"],
    registry=REGISTRY,
)
EMBEDDED_TEXTS = Counter(
    "matchmaker_embedded_texts_total", "Texts embedded by the model.", ["stage"], registry=REGISTRY
)
EMBEDDING_SECONDS = Histogram(
    "matchmaker_embedding_seconds",
    "Seconds of one model call (a batch).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
    registry=REGISTRY,
)
EMBED_BATCH_EVENTS = Histogram(
    "matchmaker_embed_batch_events",
    "Events in one batch of the embed stage (grows with the load: adaptive batching).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
    registry=REGISTRY,
)
MATCH_LATENCY = Histogram(
    "matchmaker_match_latency_seconds",
    "From the input event's timestamp on its topic to its MatchResult being produced.",
    ["trigger"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
MATCHES_EMITTED = Counter("matchmaker_matches_emitted_total", "MatchResults produced.", ["trigger"], registry=REGISTRY)
ENTITIES_STORED = Gauge(
    "matchmaker_entities_in_index", "Entities in this process's vector indexes.", ["kind"], registry=REGISTRY
)
CHANGELOG_RECOVERED = Counter(
    "matchmaker_changelog_records_recovered_total",
    "Table changelog records read to restore a table (start, rebalance); with the RocksDB store only those "
    "newer than the local database.",
    ["table"],
    registry=REGISTRY,
)
STALLED_PARTITIONS = Counter(
    "matchmaker_stalled_partitions_total",
    "Assigned partitions found behind with no progress (services/stream/watchdog.py), each then recovered.",
    ["topic"],
    registry=REGISTRY,
)
ERASED = Counter(
    "matchmaker_erasures_total", "Entities deleted or withdrawn and erased from state.", ["kind"], registry=REGISTRY
)
