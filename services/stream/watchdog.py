"""Notices an assigned partition that is behind but makes no progress, counts it, and recovers it.

Why: after members join and die in quick succession, a partition can stay assigned to a live worker that
never fetches it again (faust-streaming issue #629, "Certain topic partitions are not sending fetch
requests"; seen here in the SIGKILL test: a `challenges` and a `partials` partition with lag for 240 s).
The member keeps heartbeating, so the group never notices, and that partition's companies are not matched
until someone restarts the worker. The cause lives inside Faust's and aiokafka's fetch bookkeeping; this
watchdog is the safety net that holds whatever the cause.

A partition is *stalled* when the group's committed offset for it has not moved for `stall_after` seconds
while the broker holds records beyond it, and the event at its committed offset is not in a stage's hands
(held and not yet released, `acks.in_hand`: a long computation is not a stall). Recovery, in
two steps: first the partition is made fetchable again here (resumed in Faust's bookkeeping and sought
to its committed offset); if it stays stalled, the worker asks the group to rebalance, which assigns and
seeks every partition afresh. Both steps may re-deliver records: outputs are idempotent (same match_id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from services.kafka import clients
from services.ops.progress import group_lag
from services.settings import Settings
from services.stream import metrics
from services.stream.acks import in_hand

log = logging.getLogger("matchmaker.watchdog")


class Partition(NamedTuple):
    topic: str
    partition: int


@dataclass
class _Seen:
    committed: int | None
    since: float  # when this committed offset was first seen
    recoveries: int = 0


class StallTracker:
    """Pure bookkeeping: which partitions have been behind, without progress, for `stall_after` seconds."""

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self._seen: dict[Partition, _Seen] = {}

    def observe(
        self, now: float, offsets: Mapping[Partition, tuple[int | None, int]], busy: Iterable[Partition] = ()
    ) -> list[Partition]:
        """`offsets`: per assigned partition (committed, end). Returns the stalled ones, each at most once
        per `stall_after` seconds; a partition that moved, caught up or is `busy` starts over."""
        busy = set(busy)
        stalled = []
        for tp in list(self._seen):
            if tp not in offsets:
                del self._seen[tp]  # no longer assigned here
        for tp, (committed, end) in offsets.items():
            seen = self._seen.get(tp)
            behind = end > (committed or 0)
            if seen is None or seen.committed != committed or not behind or tp in busy:
                self._seen[tp] = _Seen(committed, now, seen.recoveries if seen and seen.committed == committed else 0)
                continue
            if now - seen.since >= self.stall_after:
                stalled.append(tp)
                seen.since = now  # the next verdict for it comes after another stall_after seconds
        return stalled

    def recovered_once(self, tp: Partition) -> int:
        """Count a recovery of `tp`; returns how many came before it while its offset stood still."""
        seen = self._seen[tp]
        seen.recoveries += 1
        return seen.recoveries - 1

    def reset(self) -> None:
        self._seen.clear()


def processing(tp: Partition, committed: int | None) -> bool:
    """True while a stage holds the partition's next event to commit (its committed offset): a long
    computation, not a stall. Other held events do not count: the one at the head is what the commit
    waits for, and an event Faust dropped before a stage got it is never held."""
    held = in_hand(tp.topic, tp.partition)
    return (committed in held) if committed is not None else bool(held)


class Watchdog:
    """Runs the tracker over the worker's assigned stream partitions every `interval` seconds."""

    def __init__(self, settings: Settings, app: Any, topics: Iterable[str]) -> None:
        self.settings = settings
        self.app = app
        self.topics = set(topics)
        self.tracker = StallTracker(settings.stall_after)
        self._admin: Any = None

    async def check(self) -> None:
        """One round; a failure (the broker unreachable, a rebalance racing it) is logged, never raised:
        an exception in a Faust timer would stop the whole worker."""
        try:
            await self._check()
        except Exception as error:  # the safety net must not take the worker down
            log.info("watchdog round skipped: %r", error)
            self.tracker.reset()
            self.close()  # a fresh admin client next round

    async def _check(self) -> None:
        app = self.app
        consumer = app.consumer
        if consumer is None or app.rebalancing or not app.tables.recovery.completed.is_set():
            self.tracker.reset()  # offsets mean nothing while partitions move
            return
        assigned = {Partition(tp.topic, tp.partition) for tp in consumer.assignment() if tp.topic in self.topics}
        if not assigned:
            return
        offsets = await asyncio.get_running_loop().run_in_executor(None, self._offsets, assigned)
        busy = {tp for tp, (committed, _) in offsets.items() if processing(tp, committed)}
        for tp in self.tracker.observe(time.monotonic(), offsets, busy):
            await self._recover(tp, offsets[tp])

    def _offsets(self, assigned: set[Partition]) -> dict[Partition, tuple[int | None, int]]:
        """The group's committed offset and the log end of each assigned partition, from the broker."""
        if self._admin is None:
            self._admin = clients.admin(self.settings, client_id="matchmaker-watchdog")
        rows = group_lag(self._admin, self.settings.app_id, sorted({tp.topic for tp in assigned}))
        return {
            Partition(r.topic, r.partition): (r.committed, r.end)
            for r in rows
            if Partition(r.topic, r.partition) in assigned
        }

    async def _recover(self, tp: Partition, offsets: tuple[int | None, int]) -> None:
        consumer = self.app.consumer
        faust_tp = next((t for t in consumer.assignment() if (t.topic, t.partition) == tp), None)
        if faust_tp is None:
            return
        committed, end = offsets
        earlier = self.tracker.recovered_once(tp)
        state = (
            f"active={faust_tp in consumer._get_active_partitions()} paused={faust_tp in consumer._paused_partitions} "
            f"buffered={faust_tp in consumer._buffered_partitions}"
        )
        metrics.STALLED_PARTITIONS.labels(tp.topic).inc()
        if earlier == 0:
            log.warning(
                "partition %s[%s] is %s behind with no progress for %.0fs (%s): resuming it and seeking to %s",
                tp.topic, tp.partition, end - (committed or 0), self.settings.stall_after, state, committed or 0,
            )  # fmt: skip
            consumer._buffered_partitions.discard(faust_tp)
            consumer.resume_partitions({faust_tp})
            await consumer.seek_wait({faust_tp: committed or 0})
        else:
            log.warning(
                "partition %s[%s] still stalled after %s recovery (%s): asking the group to rebalance",
                tp.topic, tp.partition, earlier, state,
            )  # fmt: skip
            thread = consumer._thread
            coordinator = thread._ensure_consumer()._coordinator

            async def rejoin() -> None:
                coordinator.request_rejoin()

            await thread.call_thread(rejoin)

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
