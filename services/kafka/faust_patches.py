"""Four fixes to faust-streaming 0.15.3 (with aiokafka 0.14), applied when a stream process builds its app.

Both lose events around a rebalance, when Faust's bookkeeping of what it read (`_read_offset`) and what it
may commit (`_acked`, gaps) drifts from what its streams were really given.

1. **Uncommitted partitions are not rewound.** After a rebalance Faust seeks every assigned partition to
   its committed offset (`Consumer.perform_seek`, through aiokafka's `seek_to_committed`), and drops the
   events it had fetched but not yet processed. For a partition the group has never committed, or
   committed at offset 0, aiokafka does not seek at all (`if offset and offset > 0`), so the consumer goes
   on from where its fetcher stood and the dropped events are never fetched again; Faust's commit
   (`Consumer._new_offset`, whose head-gap check is skipped when the committed offset is None or 0) then
   commits past them once later events are acked. Seen as challenges at offset 0 never ranked after a
   worker was SIGKILLed, and as the stall reported upstream as faust-streaming issue #629 ("Certain topic
   partitions are not sending fetch requests since initial start"). Fix: after Faust's own seek, stream
   partitions (not table changelogs, which recovery positions itself) without a committed offset are
   sought to offset 0, which also clears Faust's read offset; the outputs are idempotent.

2. **Events not delivered are counted as read.** Faust's fetch loop (`Consumer._drain_messages`) hands each
   record to the streams while waiting on the flow being suspended (a rebalance suspends it), and then
   records the offset as read and registers any jump from the previous read offset as a gap, which
   `_new_offset` treats as acknowledged, whether the record was delivered or not. Recovery resumes the
   partitions before it seeks them, so records of a batch fetched from the old position are iterated while
   the flow is still suspended: none delivered, yet the read offset moves ahead of the committed offset
   and the offsets in between become a gap. After the seek the re-fetched records are below the read
   offset and dropped, and the commit moves past them. Seen as companies on `shard-input` never stored
   by their shard after a worker was SIGKILLed (offsets 5 to 13 of one partition: never in the changelog,
   committed past). Fix: the same loop, with the read offset and the gap recorded only for a delivered
   record.

3. **The commit can skip one unacknowledged event.** `_new_offset` refuses to commit past a hole at the
   head of the acknowledged offsets only when the first acknowledged offset is more than one above the
   committed one (`min(acked) - committed > 1`); the committed offset is the next one to process, so an
   event at exactly that offset, never acknowledged while later ones were, is committed past. Seen as a
   single company (`shard-input` offset 6 of 14) never stored by its shard after a worker was SIGKILLed.
   Fix: no commit while the committed offset itself is neither acknowledged nor in a gap; the
   partition's commit then stands still, the event is not lost, and the worker's watchdog re-reads the
   partition from its committed offset (services/stream/watchdog.py).

4. **Events skipped for their generation count as acknowledged.** A stream skips an event fetched before
   the latest rebalance (its `generation_id` is not the app's), and acknowledges it so the lag does not
   grow. Nothing processed it, yet its offset enters `_acked`, so the commit can move past it before
   (or instead of) its re-fetched copy being processed. Seen as the events of two `shard-input`
   partitions never processed by their new owner after a worker was SIGKILLed, the group committed at
   their end. Fix: an acknowledgement of an event of an older generation is ignored; after a rebalance
   every partition is read again from its committed offset (Faust's seek, fix 1), so the event is
   processed there, and an event a stage had finished before the rebalance is processed once more
   (same outputs: at-least-once).

`apply()` is idempotent; faust-streaming is pinned (pyproject.toml), and a version check refuses to patch
another version.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import faust
from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from mode import Service, ServiceT

_APPLIED = "_matchmaker_patched"
PATCHED_VERSION = "0.15.3"


def apply() -> None:
    if getattr(Consumer, _APPLIED, False):
        return
    if faust.__version__ != PATCHED_VERSION:
        raise RuntimeError(
            f"services/kafka/faust_patches.py patches faust-streaming {PATCHED_VERSION}, found {faust.__version__}: "
            "check the fixes against the new version before changing the pin"
        )
    original = Consumer.perform_seek

    async def perform_seek(self: Consumer) -> None:
        await original(self)
        await self.seek_wait(uncommitted_stream_partitions(self))

    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    Consumer._drain_messages = _drain_messages  # type: ignore[method-assign]
    original_new_offset = Consumer._new_offset

    def _new_offset(self: Consumer, tp: Any) -> int | None:
        if head_unacknowledged(self, tp):
            return None
        return original_new_offset(self, tp)

    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    original_ack = Consumer.ack

    def ack(self: Consumer, message: Any) -> bool:
        if older_generation(self, message):
            return False
        return original_ack(self, message)

    Consumer.ack = ack  # type: ignore[method-assign]
    setattr(Consumer, _APPLIED, True)


def uncommitted_stream_partitions(consumer: Consumer) -> dict:
    """tp -> 0 for the assigned stream partitions the group has no committed offset for (None or 0)."""
    changelogs = set(consumer.app.tables.changelog_topics)
    return {
        tp: 0
        for tp in consumer.assignment()
        if tp.topic not in changelogs and consumer._committed_offset.get(tp) is None
    }


def older_generation(consumer: Any, message: Any) -> bool:
    """True for a message fetched before the consumer's latest rebalance (fix 4)."""
    generation = message.generation_id
    return generation is not None and generation != consumer.app.consumer_generation_id


def head_unacknowledged(consumer: Any, tp: Any) -> bool:
    """True when events were acknowledged on `tp` but the next one to commit (the committed offset) was
    not, and no gap covers it (fix 3): committing then would skip it."""
    acked = consumer._acked[tp]
    committed = consumer._committed_offset[tp]
    if not acked or not committed:
        return False
    return min(acked) > committed and not consumer._gap[tp].at(committed)


async def _drain_messages(self: Any, fetcher: ServiceT) -> None:
    """`Consumer._drain_messages` of faust-streaming 0.15.3; changed: a record's offset is read (and a jump
    to it a gap) only once the record was delivered to the streams (fix 2 above)."""
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = cast(Service, self)._stopped.is_set
    fetcher_should_stop = cast(Service, fetcher)._stopped.is_set

    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    flag_consumer_fetching = CONSUMER_FETCHING
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for

    yield_every = 100
    num_since_yield = 0

    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(flag_consumer_fetching)
            ait = cast(AsyncIterator, getmany(timeout=1.0))
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await self.sleep(0)
                        num_since_yield = 0

                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        if commit_every is not None:
                            if self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                        delivery = callback(message)
                        waited = await self.wait_first(delivery, self.suspend_flow.wait())
                        if delivery not in waited.done:
                            continue  # the flow was suspended first: not delivered, so not read
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        set_read_offset(tp, offset)
                    else:
                        self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, message.key, message.value)
                unset_flag(flag_consumer_fetching)

    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(flag_consumer_fetching)
