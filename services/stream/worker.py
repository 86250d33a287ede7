"""The matching worker: a Faust app in three stages, every stage partitioned so processes scale out.

    challenges ─┐                     ┌─ company  → its shard (murmur2(company_id) % shards)
                ├─ embed (validate, ──┤                                   ┌─ company ranks the shard's
    companies ──┘   batch-embed)      └─ challenge → every shard          │  open challenges → matches
                         │ invalid → dead-letters        shard-input ─────┤
                                                                          └─ challenge ranks the shard's
                                                   partials ← per-shard top k   companies → partials
                                                      └─ merge: all shards in → global top k → matches

Companies are many, so they are sharded; challenges are few, so every shard keeps all of them.
Every shard sees its companies and all challenges in one ordered log, so whichever side arrives
first, the pair is evaluated when the second arrives. Shard state (entities + vectors) lives in
Faust tables backed by changelog topics; a restarted or rebalanced worker recovers it from Kafka
and rebuilds its in-memory vector index from the table without re-embedding.

Processing guarantee: at-least-once with idempotent outputs. Each stored record notes whether its
outputs were sent; a redelivered event re-sends only outputs that were not confirmed, and every
MatchResult carries a deterministic match_id, so downstream de-duplication is exact.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable, Iterable

import faust
import numpy as np
from kafka.partitioner.default import murmur2

from matcher import (
    Match,
    Ranker,
    challenge_text,
    company_text,
    load_embedder,
    merge_partial_rankings,
)
from schemas import Challenge, CompanyProfile, MatchResult
from services import versioning
from services.kafka import codec
from services.kafka.faust_app import make_app, run_faust_worker
from services.settings import Settings
from services.stream import metrics
from services.stream.messages import (
    EntityRecord,
    Erasure,
    MergeState,
    Partial,
    ShardInput,
)

log = logging.getLogger("matchmaker.worker")


def shard_of(key: str, shards: int) -> int:
    """Kafka's default partitioner (murmur2), so Java and Python producers agree on a key's shard."""
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % shards


class MatchWorker:
    """Builds the Faust app and holds what its agents share: the model and per-shard rankers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = make_app(
            settings, settings.app_id, settings.shards, settings.worker_web_port, settings.worker_web_host
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._embedder = None
        self._rankers: dict[int, Ranker] = {}
        self._declare()

    # -- topology -----------------------------------------------------------------------------
    def _declare(self) -> None:
        s, app = self.settings, self.app
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.sources = app.topic(s.topic_challenges, s.topic_companies, **raw)
        self.shard_input = app.topic(s.shard_input_topic, partitions=s.shards, internal=True, **raw)
        self.partials = app.topic(s.partials_topic, partitions=s.shards, internal=True, **raw)
        self.matches = app.topic(s.topic_matches, **raw)
        self.dead_letters = app.topic(s.topic_dead_letters, **raw)
        schema = faust.Schema(key_serializer="json", value_serializer="json")
        table = {"default": None, "partitions": s.shards, "schema": schema}
        # values are the dicts of services.stream.messages (EntityRecord, MergeState), converted at access
        self.companies = app.Table("companies", **table)
        self.challenges = app.Table("challenges", **table)  # key "<shard>/<challenge_id>"
        self.merges = app.Table("merges", **table)
        app.agent(self.sources, name="embed")(self._embed_agent)
        app.agent(self.shard_input, name="shard")(self._shard_agent)
        app.agent(self.partials, name="merge")(self._merge_agent)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.task(self._announce)
        app.page("/healthz")(self._healthz)
        app.page("/readyz")(self._readyz)
        app.page("/metrics")(self._metrics)

    async def _announce(self) -> None:
        """Ask every shard to (re)build its index now rather than at its next event.

        A worker that starts with another model re-embeds the stored entities right away, with
        progress in the log; the message is a no-op for shards that are already built.
        """
        sync = ShardInput("sync").to_json()
        for shard in range(self.settings.shards):
            await self.shard_input.send(key=b"sync", value=sync, partition=shard)

    # -- operations endpoints (Kubernetes probes, Prometheus) --------------------------------------
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
                self._rankers.pop(tp.partition, None)

    # -- stage 1: validate and embed ------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            if self.settings.torch_threads:
                import torch

                torch.set_num_threads(self.settings.torch_threads)
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    async def _embed_agent(self, stream: faust.StreamT) -> None:
        s = self.settings
        async for events in stream.take_events(s.embed_batch_size, within=s.embed_batch_window):
            await self._embed_batch(events)

    async def _embed_batch(self, events: Iterable[faust.EventT]) -> None:
        accepted: list[tuple[faust.EventT, Challenge | CompanyProfile]] = []
        pending = []
        for event in events:
            message = event.message
            kind: codec.Kind = "challenge" if message.topic == self.settings.topic_challenges else "company"
            metrics.EVENTS_CONSUMED.labels(message.topic).inc()
            decoded = codec.decode(kind, message.key, message.value)
            if isinstance(decoded, codec.Rejected):
                metrics.DEAD_LETTERS.labels(decoded.category).inc()
                log.warning("dead letter %s[%s]@%s: %s", message.topic, message.partition, message.offset, decoded.reason)
                record = codec.dead_letter(message.topic, message.partition, message.offset, message.key, message.value, decoded)
                pending.append(await self.dead_letters.send(key=message.key, value=record))
            elif isinstance(decoded, codec.Tombstone):
                deletion = ShardInput(kind, deleted=decoded.key, source_timestamp=message.timestamp)
                pending += await self._route(deletion, kind, decoded.key)
            else:
                accepted.append((event, decoded))
        if accepted:
            texts = [challenge_text(e) if isinstance(e, Challenge) else company_text(e) for _, e in accepted]
            vectors = await self._encode(texts, stage="input")
            for (event, entity), vector in zip(accepted, vectors):
                kind = "challenge" if isinstance(entity, Challenge) else "company"
                payload = ShardInput(kind, entity.model_dump(mode="json"), codec.encode_vector(vector),
                                     self.embedder.name, event.message.timestamp)
                pending += await self._route(payload, kind, entity.key)
        await _confirm(pending)

    async def _encode(self, texts: list[str], stage: str) -> np.ndarray:
        """Run the model in its own thread so heartbeats and commits go on meanwhile."""
        started = time.perf_counter()
        vectors = await asyncio.get_running_loop().run_in_executor(self._executor, self.embedder.encode, texts)
        metrics.EMBEDDING_SECONDS.observe(time.perf_counter() - started)
        metrics.EMBEDDED_TEXTS.labels(stage).inc(len(texts))
        return vectors

    async def _route(self, payload: ShardInput, kind: str, key: str) -> list:
        """Companies go to their shard; challenges to every shard."""
        value = payload.to_json()
        shards = range(self.settings.shards) if kind == "challenge" else [shard_of(key, self.settings.shards)]
        return [await self.shard_input.send(key=key.encode(), value=value, partition=p) for p in shards]

    # -- stage 2: per-shard state and ranking -----------------------------------------------------
    async def _ranker(self, shard: int) -> Ranker:
        """The shard's in-memory index, rebuilt from the recovered tables after a rebalance.

        Stored vectors are used as they are; only records embedded by another model than the
        configured one are embedded again (with progress in the log), and the table is updated.
        """
        ranker = self._rankers.get(shard)
        if ranker is not None:
            return ranker
        ranker = Ranker(self.embedder.dimension, top_k=self.settings.top_k, min_score=self.settings.min_score)
        stale: list[tuple[faust.Table, str, EntityRecord]] = []
        for table in (self.companies, self.challenges):
            for key, value in list(table.items()):
                record = EntityRecord.from_dict(value)
                if record is None or record.shard != shard or not record.indexed:
                    continue
                if record.model != self.embedder.name:
                    stale.append((table, key, record))
                else:
                    self._index(ranker, table, record, codec.decode_vector(record.vector))
        if stale:
            await self._reembed(ranker, shard, stale)
        self._rankers[shard] = ranker
        self._count_index()
        log.info("shard %s ready: %s companies, %s challenges", shard, ranker.n_companies, ranker.n_challenges)
        return ranker

    def _index(self, ranker: Ranker, table: faust.Table, record: EntityRecord, vector: np.ndarray) -> None:
        if table is self.companies:
            ranker.upsert_company(CompanyProfile.model_validate(record.entity), vector)
        else:
            ranker.upsert_challenge(Challenge.model_validate(record.entity), vector)

    async def _reembed(self, ranker: Ranker, shard: int, stale: list[tuple[faust.Table, str, EntityRecord]]) -> None:
        """The model changed: embed the stored texts again, in batches, reporting progress."""
        total, batch = len(stale), self.settings.embed_batch_size
        log.warning("shard %s: re-embedding %s stored entities for model %s", shard, total, self.embedder.name)
        for start in range(0, total, batch):
            chunk = stale[start : start + batch]
            texts = [
                company_text(CompanyProfile.model_validate(r.entity)) if t is self.companies
                else challenge_text(Challenge.model_validate(r.entity))
                for t, _, r in chunk
            ]
            vectors = await self._encode(texts, stage="re-embed")
            for (table, key, record), vector in zip(chunk, vectors):
                table[key] = replace(record, vector=codec.encode_vector(vector), model=self.embedder.name).to_dict()
                self._index(ranker, table, record, vector)
            log.warning("shard %s: re-embedded %s/%s", shard, min(start + batch, total), total)

    async def _vector(self, payload: ShardInput, text: Callable[[], str]) -> np.ndarray:
        """The payload's vector, or a fresh one when it was made by another model (rolling upgrade).

        `text` is called only then: preparing the text finds glossary concepts, which is not free.
        """
        if payload.model == self.embedder.name:
            return codec.decode_vector(payload.vector)
        return (await self._encode([text()], stage="re-embed"))[0]

    def _record(self, shard: int, version: int, payload: ShardInput, vector: np.ndarray) -> dict:
        """The table record of an entity whose outputs were confirmed; the payload's own vector encoding
        is kept when this model made it (no re-encoding)."""
        encoded = payload.vector if payload.model == self.embedder.name else codec.encode_vector(vector)
        return EntityRecord(shard, version, payload.entity, encoded, self.embedder.name, sent=True).to_dict()

    def _count_index(self) -> None:
        metrics.ENTITIES_STORED.labels("company").set(sum(r.n_companies for r in self._rankers.values()))
        metrics.ENTITIES_STORED.labels("challenge").set(max((r.n_challenges for r in self._rankers.values()), default=0))

    async def _shard_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            payload = ShardInput.from_json(event.message.value)
            shard = event.message.partition
            ranker = await self._ranker(shard)
            if payload.kind == "sync":
                pass
            elif payload.kind == "company":
                await self._on_company(ranker, shard, payload)
            else:
                await self._on_challenge(ranker, shard, payload)
            self._count_index()

    def _skip(self, kind: str, previous: EntityRecord | None, version: int) -> bool:
        """True for an older version (stale) or a version whose outputs were already confirmed."""
        decision = versioning.decide(previous.version if previous else None, version)
        if decision is versioning.Decision.STALE:
            metrics.IGNORED_VERSIONS.labels(kind, "stale").inc()
            return True
        if decision is versioning.Decision.DUPLICATE and previous is not None and previous.sent:
            metrics.IGNORED_VERSIONS.labels(kind, "duplicate").inc()
            return True
        return False

    def _erase(self, table: faust.Table, key: str, shard: int, version: int, why: Erasure, kind: str) -> None:
        """Right to erasure: keep only the id's last version (so replays stay ignored), no text or vector."""
        table[key] = EntityRecord(shard, version, sent=True, erased=why).to_dict()
        metrics.ERASED.labels(kind).inc()

    async def _on_company(self, ranker: Ranker, shard: int, payload: ShardInput) -> None:
        if payload.deleted is not None:
            company_id = payload.deleted
            ranker.remove_company(company_id)
            previous = EntityRecord.from_dict(self.companies.get(company_id))
            if previous is not None:
                self._erase(self.companies, company_id, shard, previous.version, "deleted", "company")
            return
        company = CompanyProfile.model_validate(payload.entity)
        if self._skip("company", EntityRecord.from_dict(self.companies.get(company.company_id)), company.version):
            return
        if company.status == "withdrawn":
            ranker.remove_company(company.company_id)
            self._erase(self.companies, company.company_id, shard, company.version, "withdrawn", "company")
            return
        vector = await self._vector(payload, lambda: company_text(company))
        ranker.upsert_company(company, vector)
        matches = ranker.rank_challenges(company, vector)
        await _confirm([await self._emit(m, "company", payload.source_timestamp) for m in matches])
        # stored once, after the broker confirmed the outputs: a crash before this line redelivers the
        # event and sends the same match_ids again; after it, the redelivery is a confirmed duplicate
        self.companies[company.company_id] = self._record(shard, company.version, payload, vector)

    async def _on_challenge(self, ranker: Ranker, shard: int, payload: ShardInput) -> None:
        if payload.deleted is not None:
            challenge_id = payload.deleted
            ranker.remove_challenge(challenge_id)
            key = f"{shard}/{challenge_id}"
            previous = EntityRecord.from_dict(self.challenges.get(key))
            if previous is not None:
                self._erase(self.challenges, key, shard, previous.version, "deleted", "challenge")
            return
        challenge = Challenge.model_validate(payload.entity)
        key = f"{shard}/{challenge.challenge_id}"
        if self._skip("challenge", EntityRecord.from_dict(self.challenges.get(key)), challenge.version):
            return
        if challenge.status == "closed":  # never matched again; its text is no longer needed
            ranker.remove_challenge(challenge.challenge_id)
            self._erase(self.challenges, key, shard, challenge.version, "closed", "challenge")
            return
        vector = await self._vector(payload, lambda: challenge_text(challenge))
        ranker.upsert_challenge(challenge, vector)
        partial = Partial(challenge.challenge_id, challenge.version, shard, self.settings.shards,
                          payload.source_timestamp, tuple(ranker.rank_companies(challenge, vector)))
        sent = await self.partials.send(key=challenge.challenge_id.encode(), value=partial.to_json())
        await _confirm([sent])
        self.challenges[key] = self._record(shard, challenge.version, payload, vector)

    # -- stage 3: merge shard partials into one ranking -------------------------------------------
    async def _merge_agent(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            await self._on_partial(Partial.from_json(event.message.value))

    async def _on_partial(self, partial: Partial) -> None:
        challenge_id, version = partial.challenge_id, partial.version
        state = MergeState.from_dict(self.merges.get(challenge_id))
        decision = versioning.decide(state.version if state else None, version)
        if decision is versioning.Decision.STALE or (decision is versioning.Decision.DUPLICATE and state and state.done):
            return
        parts = {} if state is None or decision.wins else state.parts
        parts = {**parts, str(partial.shard): partial.matches}
        if len(parts) < partial.shards:
            self.merges[challenge_id] = MergeState(version, parts).to_dict()
            return
        ranked = merge_partial_rankings(parts.values(), self.settings.top_k)
        await _confirm([await self._emit(m, "challenge", partial.source_timestamp) for m in ranked])
        self.merges[challenge_id] = MergeState(version, done=True).to_dict()

    async def _emit(self, match: Match, trigger: str, source_timestamp: float | None):
        result = MatchResult.create(
            challenge_id=match.challenge_id,
            company_id=match.company_id,
            challenge_version=match.challenge_version,
            company_version=match.company_version,
            rank=match.rank,
            score=match.score,
            components=match.components,
            reasons=list(match.reasons),
            trigger=trigger,
            model=self.embedder.name,
        )
        metrics.MATCHES_EMITTED.labels(trigger).inc()
        if source_timestamp:
            metrics.MATCH_LATENCY.labels(trigger).observe(max(0.0, time.time() - source_timestamp))
        return await self.matches.send(key=match.company_id.encode(), value=result.model_dump_json().encode())


async def _confirm(pending: list) -> None:
    """Wait until the broker acknowledged every message sent (acks=all)."""
    if pending:
        await asyncio.gather(*pending)


def run_worker(settings: Settings) -> None:
    """Run one worker process until SIGTERM/SIGINT."""
    from services.kafka.topics import create_missing, ensure_topics, worker_topic_specs

    ensure_topics(settings)
    create_missing(settings, worker_topic_specs(settings))
    worker = MatchWorker(settings)
    worker.embedder  # load the model before joining the group: loading blocks for seconds
    # torch, transformers and Faust leave ~500k long-lived objects; every full collection walked them
    # all (~0.25 s with the event loop stopped: the p99 latency). Frozen, the collector skips them.
    gc.collect()
    gc.freeze()
    try:
        run_faust_worker(worker.app)
    finally:
        # frozen objects are never collected, not even at exit: torch's triton bindings then print a
        # "nanobind: leaked ..." report (not a log record) to stderr as the interpreter shuts down
        gc.unfreeze()
