"""The matching worker: a Faust app in three stages, every stage partitioned so processes scale out.

    challenges ─┐                     ┌─ company  → its shard (murmur2(company_id) % shards)
                ├─ embed (validate, ──┤                                   ┌─ company ranks the shard's
    companies ──┘   batch-embed)      └─ challenge → every shard          │  open challenges → matches
                         │ invalid → dead-letters        shard-input ─────┤
                                                                          └─ challenge ranks the shard's
                                                   partials ← per-shard top k   companies → partials
                                                      └─ merge: all shards in → global top k → matches

Subscriptions (the delivery side's topic) carry each company's alert threshold: the embed stage routes
them to the company's shard (table `alerts`), and the pass that ranks a challenge also alerts every
subscribed company at or above its threshold that the shortlist leaves out (shard.py, merge.py).

Companies are many, so they are sharded; challenges are few, so every shard keeps all of them.
Every shard sees its companies and all challenges in one ordered log, so whichever side arrives
first, the pair is evaluated when the second arrives. Shard state (entities + vectors) lives in
Faust tables backed by changelog topics; a restarted or rebalanced worker recovers it from Kafka
and rebuilds its in-memory vector index from the table without re-embedding.

Processing guarantee: at-least-once with idempotent outputs. Each stored record notes whether its
outputs were sent; a redelivered event re-sends only outputs that were not confirmed, and every
MatchResult carries a deterministic match_id, so downstream de-duplication is exact.

This module declares the app (topics, tables, agents, endpoints) and runs it; the stages are
embed.py, shard.py and merge.py, their decisions (pure) decisions.py, the routing routing.py.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from services.errors import ConfigurationError
from services.kafka.faust_app import data_dir, json_table, make_app, raw_topic, run_faust_worker
from services.ops.access import guard_faust_web
from services.settings import Settings
from services.stream import local_state, metrics
from services.stream.embed import EmbedStage, Encoder
from services.stream.merge import MergeStage
from services.stream.messages import ShardInput
from services.stream.outputs import MatchOutput
from services.stream.routing import shard_of
from services.stream.shard import ShardStage
from services.stream.watchdog import Watchdog

__all__ = ["MatchWorker", "run_worker", "shard_of"]

log = logging.getLogger("matchmaker.worker")


class MatchWorker:
    """Builds the Faust app and its three stages, which share the model (`Encoder`) and the output."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = make_app(
            settings,
            settings.app_id,
            settings.shards,
            settings.worker_web_port,
            settings.worker_web_host,
            store=settings.store,
        )
        guard_faust_web(self.app, settings, settings.worker_web_host, "worker's web server")
        self.encoder = Encoder(settings)
        self._declare()

    @property
    def embedder(self):
        """The sentence model (loaded on first use)."""
        return self.encoder.model

    # -- topology -----------------------------------------------------------------------------
    def _declare(self) -> None:
        s, app = self.settings, self.app
        self.sources = raw_topic(app, *s.challenge_topics, s.topic_companies, s.delivery.topic_subscriptions)
        self.shard_input = raw_topic(app, s.shard_input_topic, partitions=s.shards, internal=True)
        self.partials = raw_topic(app, s.partials_topic, partitions=s.shards, internal=True)
        self.matches = raw_topic(app, s.topic_matches)
        self.dead_letters = raw_topic(app, s.topic_dead_letters)
        # values are the dicts of services.stream.messages (EntityRecord, MergeState), converted at access
        self.companies = json_table(app, "companies", s.shards, _count_recovered("companies"))
        self.challenges = json_table(app, "challenges", s.shards, _count_recovered("challenges"))  # key "<shard>/<id>"
        self.merges = json_table(app, "merges", s.shards, _count_recovered("merges"))
        self.alerts = json_table(app, "alerts", s.shards, _count_recovered("alerts"))  # key company_id: AlertRecord
        output = MatchOutput(self.matches, self.encoder)
        self.embed = EmbedStage(s, self.encoder, self.shard_input, self.dead_letters)
        self.shard = ShardStage(
            s, self.encoder, output, self.partials, self.companies, self.challenges, self.dead_letters, self.alerts
        )
        self.merge = MergeStage(s, output, self.merges)
        app.agent(self.sources, name="embed")(self.embed.run)
        app.agent(self.shard_input, name="shard")(self.shard.run)
        app.agent(self.partials, name="merge")(self.merge.run)
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]  # Faust's signal type
        app.task(self._announce)
        sources = (
            *s.challenge_topics,
            s.topic_companies,
            s.delivery.topic_subscriptions,
            s.shard_input_topic,
            s.partials_topic,
        )
        self.watchdog = Watchdog(s, app, sources)
        app.timer(s.watchdog_interval)(self.watchdog.check)
        app.page("/healthz")(self._healthz)  # type: ignore[arg-type]  # Faust accepts a coroutine function of the request
        app.page("/readyz")(self._readyz)  # type: ignore[arg-type]
        app.page("/metrics")(self._metrics)  # type: ignore[arg-type]

    async def _announce(self) -> None:
        """Ask every shard to (re)build its index now rather than at its next event.

        A worker that starts with another model re-embeds the stored entities right away, with
        progress in the log; the message is a no-op for shards that are already built.
        """
        sync = ShardInput("sync").to_json()
        for shard in range(self.settings.shards):
            await self.shard_input.send(key=b"sync", value=sync, partition=shard)

    # -- operations endpoints (Kubernetes probes, Prometheus); off loopback /metrics needs the ops token --
    async def _healthz(self, request):
        """Liveness: the event loop answers."""
        return self.app.web.json({"status": "ok"})

    async def _readyz(self, request):
        """Readiness: joined the group, holds partitions, and table recovery is complete."""
        app = self.app
        recovered = app.tables.recovery.completed.is_set()
        assigned = bool(app.consumer.assignment()) if app.consumer else False
        ready = recovered and assigned and not app.rebalancing
        body = {"ready": ready, "recovered": recovered, "assigned": assigned, "rebalancing": app.rebalancing}
        return self.app.web.json(body, status=200 if ready else 503)

    async def _metrics(self, request):
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return self.app.web.bytes(generate_latest(metrics.REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    async def _on_revoked(self, app: faust.App, revoked: set, **_: Any) -> None:
        """Drop indexes of shards that may move; they are rebuilt from the recovered table on demand."""
        for tp in revoked:
            if tp.topic == self.settings.shard_input_topic:
                self.shard.drop(tp.partition)


def _count_recovered(table: str) -> Callable[[faust.EventT], Awaitable[None]]:
    """Counts the changelog records a start or rebalance reads: how much a restart had to replay."""
    counter = metrics.CHANGELOG_RECOVERED.labels(table)

    async def count(event: faust.EventT) -> None:
        counter.inc()

    return count


def run_worker(settings: Settings) -> None:
    """Run one worker process until SIGTERM/SIGINT."""
    from matcher.bridge import preload as preload_language_resources
    from services.kafka.topics import (
        create_missing,
        missing,
        output_topic_specs,
        source_topic_specs,
        with_replication,
        worker_topic_specs,
    )

    settings = with_replication(settings.as_principal("worker"))
    # the subscriptions topic carries the alert thresholds; like the sources, the operator creates it
    absent = missing(settings, [*source_topic_specs(settings), settings.delivery.topic_subscriptions])
    if absent:  # Faust would subscribe anyway and never fetch them once they appear
        raise ConfigurationError(
            f"source topics {absent} do not exist (or principal {settings.kafka_username} may not read them); "
            "the operator creates them: `matchmaker access sync`"
        )
    create_missing(settings, {**output_topic_specs(settings), **worker_topic_specs(settings)})
    if settings.store == "rocksdb":
        changelogs = [topic for topic in worker_topic_specs(settings) if topic.endswith("-changelog")]
        datadir = data_dir(settings, settings.app_id, settings.worker_web_port)
        local_state.keep_or_forget(datadir, local_state.topic_ids(settings, changelogs))
    worker = MatchWorker(settings)
    _ = worker.embedder  # load the model before joining the group: loading blocks for seconds
    preload_language_resources()  # likewise Voikko and the dictionaries of the language bridge
    # torch, transformers and Faust leave ~500k long-lived objects; every full collection walked them
    # all (~0.25 s with the event loop stopped: the p99 latency). Frozen, the collector skips them.
    gc.collect()
    gc.freeze()
    try:
        run_faust_worker(worker.app)
    finally:
        worker.watchdog.close()
        # frozen objects are never collected, not even at exit: torch's triton bindings then print a
        # "nanobind: leaked ..." report (not a log record) to stderr as the interpreter shuts down
        gc.unfreeze()
