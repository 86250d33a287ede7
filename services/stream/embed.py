"""Stage 1: validate the input events, embed them in batches, and route them to their shards.

Invalid messages go to the dead-letter topic; tombstones are routed as deletions, without a model call.
Subscriptions (the delivery side's topic) carry a company's alert threshold: routed to the company's
shard as they are, without a model call (an unreadable one is logged and skipped, as the notifier does).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import faust
import numpy as np

from matcher import challenge_text, company_text, load_embedder
from schemas import Challenge, CompanyProfile
from services.kafka import codec
from services.settings import Settings
from services.stream import metrics
from services.stream.acks import hold, release
from services.stream.messages import ShardInput, ShardKind
from services.stream.outputs import confirm
from services.stream.routing import shards_for

log = logging.getLogger("matchmaker.worker")


class Encoder:
    """The sentence model, loaded on first use, run in its own thread (shared by every stage)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._model = None

    @property
    def model(self):
        if self._model is None:
            if self.settings.torch_threads:
                import torch

                torch.set_num_threads(self.settings.torch_threads)
            self._model = load_embedder(self.settings.model)
        return self._model

    async def encode(self, texts: list[str], stage: str) -> np.ndarray:
        """Run the model in its own thread so heartbeats and commits go on meanwhile."""
        started = time.perf_counter()
        vectors = await asyncio.get_running_loop().run_in_executor(self._executor, self.model.encode, texts)
        metrics.EMBEDDING_SECONDS.observe(time.perf_counter() - started)
        metrics.EMBEDDED_TEXTS.labels(stage).inc(len(texts))
        return vectors


class EmbedStage:
    """The `embed` agent: challenges and companies in, ShardInput messages (or dead letters) out."""

    def __init__(
        self, settings: Settings, encoder: Encoder, shard_input: faust.TopicT, dead_letters: faust.TopicT
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.shard_input = shard_input
        self.dead_letters = dead_letters
        self.cities = {topic: city for city, topic in settings.city_topics.items()}  # topic -> its city

    async def run(self, stream: faust.StreamT) -> None:
        """Adaptive batching: the agent hands events to a queue, and one task embeds whatever is waiting.

        A lone event is embedded at once (no window to wait out); under load, the events that arrived
        while the model ran form the next batch, so batches grow with the load up to the batch size.
        The queue holds at most one batch: beyond that the agent waits, and so does Faust's fetching.
        With MATCHMAKER_EMBED_BATCH_WINDOW > 0 the stage waits up to that long to fill a batch instead.
        """
        if self.settings.embed_batch_window > 0:
            return await self._run_windowed(stream)
        waiting: asyncio.Queue[faust.EventT] = asyncio.Queue(maxsize=self.settings.embed_batch_size)
        embedder = asyncio.create_task(self._embed_waiting(stream, waiting), name="embed-batches")
        try:
            async for event in stream.events():
                hold([event])  # released by the embedding task once its outputs are confirmed
                if waiting.full():  # wait for room, or for the embedding task to fail
                    put = asyncio.ensure_future(waiting.put(event))
                    await asyncio.wait({put, embedder}, return_when=asyncio.FIRST_COMPLETED)
                    put.cancel()  # a no-op once the event is in the queue
                else:
                    waiting.put_nowait(event)  # the common case: no task per event
                if embedder.done():  # it failed: raise here, where Faust sees the agent's error
                    embedder.result()
                    raise RuntimeError("the embedding task stopped")
        finally:
            embedder.cancel()

    async def _run_windowed(self, stream: faust.StreamT) -> None:
        s = self.settings
        batches = stream.take_events(s.embed_batch_size, within=s.embed_batch_window)  # type: ignore[attr-defined]
        async for events in batches:  # (faust-streaming's StreamT does not declare take_events)
            hold(events)
            metrics.EMBED_BATCH_EVENTS.observe(len(events))
            await self.batch(events)
            await release(stream, events)

    async def _embed_waiting(self, stream: faust.StreamT, waiting: asyncio.Queue[faust.EventT]) -> None:
        while True:
            events = [await waiting.get()]
            while len(events) < self.settings.embed_batch_size and not waiting.empty():
                events.append(waiting.get_nowait())
            metrics.EMBED_BATCH_EVENTS.observe(len(events))
            await self.batch(events)
            await release(stream, events)

    async def batch(self, events: Iterable[faust.EventT]) -> None:
        """Validate, embed and route a batch; shard input leaves in the order the events came in.

        A tombstone needs no model call, but it still waits for the entities before it: routed at once,
        it would overtake an earlier version of the same id in the same batch, and that version would
        then bring the erased entity back (a soak run found it: version and tombstone 2 s apart, batched
        together in the backlog after a rebalance).
        """
        accepted: list[tuple[faust.EventT, Challenge | CompanyProfile]] = []
        ordered: list[tuple[ShardInput | None, ShardKind, str]] = []  # None: the next accepted entity
        pending = []
        for event in events:
            message = event.message
            if message.topic == self.settings.delivery.topic_subscriptions:
                metrics.EVENTS_CONSUMED.labels(message.topic).inc()
                threshold = self.subscription(message)
                if threshold is not None:
                    ordered.append(threshold)
                continue
            kind: codec.Kind = "company" if message.topic == self.settings.topic_companies else "challenge"
            metrics.EVENTS_CONSUMED.labels(message.topic).inc()
            city = self.cities.get(message.topic)
            decoded = codec.from_city(city, codec.decode(kind, message.key, message.value))
            if isinstance(decoded, codec.Rejected):
                metrics.DEAD_LETTERS.labels(decoded.category).inc()
                log.warning(
                    "dead letter %s[%s]@%s: %s", message.topic, message.partition, message.offset, decoded.reason
                )
                record = codec.dead_letter(
                    message.topic, message.partition, message.offset, message.key, message.value, decoded
                )
                pending.append(await self.dead_letters.send(key=message.key, value=record))
            elif isinstance(decoded, codec.Tombstone):
                deletion = ShardInput(kind, deleted=decoded.key, source_timestamp=message.timestamp)
                ordered.append((deletion, kind, decoded.key))
            else:
                accepted.append((event, decoded))
                ordered.append((None, kind, decoded.key))
        embedded = iter(await self._embed(accepted))
        for payload, shard_kind, key in ordered:
            pending += await self.route(payload if payload is not None else next(embedded), shard_kind, key)
        await confirm(pending)

    async def _embed(self, accepted: list[tuple[faust.EventT, Challenge | CompanyProfile]]) -> list[ShardInput]:
        """The shard input of each accepted entity, with its vector (one model call for all)."""
        if not accepted:
            return []
        texts = [challenge_text(e) if isinstance(e, Challenge) else company_text(e) for _, e in accepted]
        vectors = await self.encoder.encode(texts, stage="input")
        model = self.encoder.model.name
        return [
            ShardInput(
                "challenge" if isinstance(entity, Challenge) else "company",
                entity.model_dump(mode="json"),
                codec.encode_vector(vector),
                model,
                event.message.timestamp,
                source_city=self.cities.get(event.message.topic),
            )
            for (event, entity), vector in zip(accepted, vectors, strict=True)
        ]

    def subscription(self, message) -> tuple[ShardInput, ShardKind, str] | None:
        """A company's alert threshold (or its removal, a tombstone) as input for the company's shard."""
        subscription = codec.decode_subscription(message.key, message.value)
        if isinstance(subscription, codec.Tombstone):
            return ShardInput("subscription", deleted=subscription.key), "subscription", subscription.key
        if isinstance(subscription, codec.Rejected):
            if message.value is not None:  # (a tombstone without a key was ignored without a word)
                log.warning("ignored subscription %r: %s", message.key, subscription.reason)
            return None
        entity = {"company_id": subscription.company_id, "min_score": subscription.min_score}
        payload = ShardInput("subscription", entity, source_timestamp=message.timestamp)
        return payload, "subscription", subscription.company_id

    async def route(self, payload: ShardInput, kind: str, key: str) -> list:
        """Send to the entity's shard partitions (see routing.shards_for); returns the pending sends."""
        value = payload.to_json()
        return [
            await self.shard_input.send(key=key.encode(), value=value, partition=p)
            for p in shards_for(kind, key, self.settings.shards)
        ]
