"""Stage 2: per-shard state and ranking.

Each shard keeps its companies and every challenge in Faust tables (changelog-backed) and an
in-memory vector index (a Ranker) rebuilt from them after a restart or rebalance. A company ranks
the shard's open challenges (its matches are sent at once); a challenge ranks the shard's companies
and sends the shard's top list to the merge stage.

Alerts: the shard also keeps its subscribed companies' alert thresholds (table `alerts`, from the
subscriptions topic, routed here by the embed stage). The pass that ranks a challenge finds every
subscribed company at or above its threshold; those outside the shard's top list are alerted at once,
the others travel with the Partial (the merge stage alerts those that miss the global shortlist). A
company that subscribes, or publishes a new version while subscribed, is alerted of every open
challenge at or above its threshold.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace

import faust
import numpy as np

from matcher import Ranker, challenge_text, company_text
from schemas import Challenge, CompanyProfile
from services.kafka import codec
from services.kafka.faust_app import ConfirmedTable, partition_items
from services.settings import Settings
from services.stream import metrics
from services.stream.acks import hold, release
from services.stream.decisions import alert_change, foreign_city, number_alerts, skip_reason, split_alerts
from services.stream.embed import Encoder
from services.stream.messages import AlertRecord, EntityRecord, Erasure, Partial, ShardInput
from services.stream.outputs import MatchOutput, confirm

log = logging.getLogger("matchmaker.worker")


def challenge_key(shard: int, challenge_id: str) -> str:
    """The `challenges` table key: every shard keeps its own record of every challenge."""
    return f"{shard}/{challenge_id}"


class ShardStage:
    """The `shard` agent and the shards' indexes held by this process."""

    def __init__(
        self,
        settings: Settings,
        encoder: Encoder,
        output: MatchOutput,
        partials: faust.TopicT,
        companies: ConfirmedTable,
        challenges: ConfirmedTable,
        dead_letters: faust.TopicT,
        alerts: ConfirmedTable,
    ) -> None:
        self.settings = settings
        self.dead_letters = dead_letters
        self.encoder = encoder
        self.output = output
        self.partials = partials
        self.companies = companies
        self.challenges = challenges
        self.alerts = alerts
        self.rankers: dict[int, Ranker] = {}

    async def run(self, stream: faust.StreamT) -> None:
        async for event in stream.events():
            hold([event])
            payload = ShardInput.from_json(event.message.value)
            shard = event.message.partition
            ranker = await self.ranker(shard)
            if payload.kind == "sync":
                pass
            elif payload.kind == "company":
                await self.on_company(ranker, shard, payload)
            elif payload.kind == "subscription":
                await self.on_subscription(ranker, shard, payload)
            elif not await self._refused(event, shard, payload):
                await self.on_challenge(ranker, shard, payload)
            self._count_index()
            await release(stream, [event], (self.companies, self.challenges, self.alerts))

    def drop(self, shard: int) -> None:
        """Forget a shard's index (its partition may move); it is rebuilt from the tables on demand."""
        self.rankers.pop(shard, None)

    # -- the index ------------------------------------------------------------------------------
    async def ranker(self, shard: int) -> Ranker:
        """The shard's in-memory index, rebuilt from the recovered tables after a rebalance.

        Stored vectors are used as they are; only records embedded by another model than the
        configured one are embedded again (with progress in the log), and the table is updated.
        """
        ranker = self.rankers.get(shard)
        if ranker is not None:
            return ranker
        model = self.encoder.model
        ranker = Ranker(model.dimension, top_k=self.settings.top_k, min_score=self.settings.min_score)
        for company_id, value in list(partition_items(self.alerts, shard)):
            alert = AlertRecord.from_dict(value)
            if alert is not None and alert.shard == shard:
                ranker.set_alert_threshold(company_id, alert.min_score)
        stale: list[tuple[ConfirmedTable, str, EntityRecord]] = []
        for table in (self.companies, self.challenges):
            # the shard's changelog partition is the shard (tables are written while its events are processed)
            for key, value in partition_items(table, shard):
                record = EntityRecord.from_dict(value)
                if record is None or record.shard != shard or not record.indexed:
                    continue
                if record.model != model.name:
                    stale.append((table, key, record))
                elif record.vector is not None:  # an indexed record always carries its vector
                    self._index(ranker, table, record, codec.decode_vector(record.vector))
        if stale:
            await self._reembed(ranker, shard, stale)
        self.rankers[shard] = ranker
        self._count_index()
        log.info(
            "shard %s ready: %s companies (%s subscribed to alerts), %s challenges",
            shard,
            ranker.n_companies,
            ranker.n_subscribed,
            ranker.n_challenges,
        )
        return ranker

    def _index(self, ranker: Ranker, table: ConfirmedTable, record: EntityRecord, vector: np.ndarray) -> None:
        if table is self.companies:
            ranker.upsert_company(CompanyProfile.model_validate(record.entity), vector)
        else:
            ranker.upsert_challenge(Challenge.model_validate(record.entity), vector)

    async def _reembed(self, ranker: Ranker, shard: int, stale: list[tuple[ConfirmedTable, str, EntityRecord]]) -> None:
        """The model changed: embed the stored texts again, in batches, reporting progress."""
        total, batch = len(stale), self.settings.embed_batch_size
        name = self.encoder.model.name
        log.warning("shard %s: re-embedding %s stored entities for model %s", shard, total, name)
        for start in range(0, total, batch):
            chunk = stale[start : start + batch]
            texts = [
                company_text(CompanyProfile.model_validate(r.entity))
                if t is self.companies
                else challenge_text(Challenge.model_validate(r.entity))
                for t, _, r in chunk
            ]
            vectors = await self.encoder.encode(texts, stage="re-embed")
            for (table, key, record), vector in zip(chunk, vectors, strict=True):
                table[key] = replace(record, vector=codec.encode_vector(vector), model=name).to_dict()
                self._index(ranker, table, record, vector)
            log.warning("shard %s: re-embedded %s/%s", shard, min(start + batch, total), total)

    async def _vector(self, payload: ShardInput, text: Callable[[], str]) -> np.ndarray:
        """The payload's vector, or a fresh one when it was made by another model (rolling upgrade).

        `text` is called only then: preparing the text finds glossary concepts, which is not free.
        """
        if payload.model == self.encoder.model.name and payload.vector is not None:
            return codec.decode_vector(payload.vector)
        return (await self.encoder.encode([text()], stage="re-embed"))[0]

    def _record(self, shard: int, version: int, payload: ShardInput, vector: np.ndarray) -> dict:
        """The table record of an entity whose outputs were confirmed; the payload's own vector encoding
        is kept when this model made it (no re-encoding)."""
        name = self.encoder.model.name
        encoded = payload.vector if payload.model == name else codec.encode_vector(vector)
        return EntityRecord(shard, version, payload.entity, encoded, name, sent=True).to_dict()

    def _count_index(self) -> None:
        metrics.ENTITIES_STORED.labels("company").set(sum(r.n_companies for r in self.rankers.values()))
        metrics.ENTITIES_STORED.labels("challenge").set(max((r.n_challenges for r in self.rankers.values()), default=0))

    # -- events ---------------------------------------------------------------------------------
    def _skip(self, kind: str, previous: EntityRecord | None, version: int) -> bool:
        """True for an older version (stale) or a version whose outputs were already confirmed."""
        why = skip_reason(previous, version)
        if why is None:
            return False
        metrics.IGNORED_VERSIONS.labels(kind, why).inc()
        return True

    async def _refused(self, event: faust.EventT, shard: int, payload: ShardInput) -> bool:
        """True when a city's topic reuses the id of another city's challenge: every shard ignores it (so it
        is never ranked) and shard 0 alone writes the dead letter, so there is one per event."""
        if payload.entity is None or payload.source_city is None:
            return False
        challenge_id = payload.entity["challenge_id"]
        previous = EntityRecord.from_dict(self.challenges.get(challenge_key(shard, challenge_id)))
        if not foreign_city(previous, payload.source_city):
            return False
        metrics.IGNORED_VERSIONS.labels("challenge", "foreign-city").inc()
        if shard == 0:
            owner = previous.city if previous is not None else None
            reason = f"challenge {challenge_id!r} belongs to {owner}; {payload.source_city} may not publish it"
            log.warning("dead letter (shard input %s@%s): %s", shard, event.message.offset, reason)
            record = codec.dead_letter(
                self.settings.city_topic(payload.source_city),
                event.message.partition,
                event.message.offset,
                challenge_id.encode(),
                json.dumps(payload.entity).encode(),
                codec.Rejected(reason, "foreign-challenge"),
            )
            await confirm([await self.dead_letters.send(key=challenge_id.encode(), value=record)])
        return True

    def _erase(
        self,
        table: ConfirmedTable,
        key: str,
        shard: int,
        version: int,
        why: Erasure,
        kind: str,
        owner: str | None = None,
    ) -> None:
        """Right to erasure: keep only the id's last version (so replays stay ignored), no text or vector;
        a challenge keeps its city, so another city cannot re-open the id."""
        table[key] = EntityRecord(shard, version, sent=True, erased=why, owner=owner).to_dict()
        metrics.ERASED.labels(kind).inc()

    async def on_company(self, ranker: Ranker, shard: int, payload: ShardInput) -> None:
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
        sent = [await self.output.emit(m, "company", payload.source_timestamp) for m in matches]
        threshold = ranker.alert_threshold(company.company_id)
        if threshold is not None:  # subscribed: every other open challenge at or above its threshold too
            listed = {m.challenge_id for m in matches}
            others = [m for m in ranker.alert_challenges(company, threshold) if m.challenge_id not in listed]
            alerts = number_alerts(others, self.settings.top_k)
            sent += [await self.output.emit(m, "alert", payload.source_timestamp) for m in alerts]
        await confirm(sent)
        # stored once, after the broker confirmed the outputs: a crash before this line redelivers the
        # event and sends the same match_ids again; after it, the redelivery is a confirmed duplicate
        self.companies[company.company_id] = self._record(shard, company.version, payload, vector)

    async def on_challenge(self, ranker: Ranker, shard: int, payload: ShardInput) -> None:
        if payload.deleted is not None:
            challenge_id = payload.deleted
            ranker.remove_challenge(challenge_id)
            key = challenge_key(shard, challenge_id)
            previous = EntityRecord.from_dict(self.challenges.get(key))
            if previous is not None:
                self._erase(self.challenges, key, shard, previous.version, "deleted", "challenge", previous.city)
            return
        challenge = Challenge.model_validate(payload.entity)
        key = challenge_key(shard, challenge.challenge_id)
        if self._skip("challenge", EntityRecord.from_dict(self.challenges.get(key)), challenge.version):
            return
        if challenge.status == "closed":  # never matched again; its text is no longer needed
            ranker.remove_challenge(challenge.challenge_id)
            self._erase(self.challenges, key, shard, challenge.version, "closed", "challenge", challenge.city)
            return
        vector = await self._vector(payload, lambda: challenge_text(challenge))
        ranker.upsert_challenge(challenge, vector)
        top, alerts = ranker.rank_and_alert(challenge, vector)
        now, held = split_alerts(top, alerts, self.settings.top_k)
        partial = Partial(
            challenge.challenge_id,
            challenge.version,
            shard,
            self.settings.shards,
            payload.source_timestamp,
            tuple(top),
            tuple(held),
        )
        sent = [await self.output.emit(m, "alert", payload.source_timestamp) for m in now]
        sent.append(await self.partials.send(key=challenge.challenge_id.encode(), value=partial.to_json()))
        await confirm(sent)
        self.challenges[key] = self._record(shard, challenge.version, payload, vector)

    async def on_subscription(self, ranker: Ranker, shard: int, payload: ShardInput) -> None:
        """A company's alert threshold set, changed or removed. A new or lower threshold alerts the company
        of the open challenges at or above it (those it had already come with the same match_ids)."""
        company_id = payload.deleted if payload.deleted is not None else (payload.entity or {})["company_id"]
        min_score = None if payload.deleted is not None else float((payload.entity or {})["min_score"])
        previous = AlertRecord.from_dict(self.alerts.get(company_id))
        if not alert_change(previous, min_score):
            return
        ranker.set_alert_threshold(company_id, min_score)
        if min_score is None:
            del self.alerts[company_id]
            return
        stored = EntityRecord.from_dict(self.companies.get(company_id))
        lower = previous is None or min_score < previous.min_score  # a higher one reaches nothing new
        if lower and stored is not None and stored.indexed:
            company = CompanyProfile.model_validate(stored.entity)
            matches = number_alerts(ranker.alert_challenges(company, min_score), self.settings.top_k)
            await confirm([await self.output.emit(m, "alert", payload.source_timestamp) for m in matches])
        self.alerts[company_id] = AlertRecord(shard, min_score).to_dict()
