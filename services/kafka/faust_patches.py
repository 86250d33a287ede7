"""One fix to faust-streaming 0.15.3 (with aiokafka 0.14), applied when a stream process builds its app.

After a rebalance Faust seeks every assigned partition to its committed offset (`Consumer.perform_seek`,
through aiokafka's `seek_to_committed`), and drops the events it had fetched but not yet processed. For a
partition the group has never committed, or committed at offset 0, aiokafka does not seek at all
(`if offset and offset > 0`), so the consumer goes on from where its fetcher stood and the dropped events
are never fetched again. They stay unacked, and Faust's commit (`Consumer._new_offset`, whose head-gap
check is skipped when the committed offset is None or 0) then commits past them as soon as later events
are acked: the first events of a fresh partition are lost, or, with nothing after them, the partition
stalls with lag that never moves. Seen here as challenges at offset 0 that were never ranked after a
worker was SIGKILLed (tests/integration/services/stream/test_failures.py at a 0.01 s batch window), and
the stall reported upstream as faust-streaming issue #629 ("Certain topic partitions are not sending fetch
requests since initial start").

The fix: after Faust's own seek, partitions of the streams (not table changelogs, which table recovery
positions itself) without a committed offset are sought to offset 0 (aiokafka resets to the earliest
offset if 0 is gone), which also clears Faust's read offset, so every uncommitted event is fetched and
processed again; the outputs are idempotent. `apply()` is idempotent.
"""

from __future__ import annotations

from faust.transport.consumer import Consumer

_APPLIED = "_matchmaker_rewinds_uncommitted"


def apply() -> None:
    if getattr(Consumer, _APPLIED, False):
        return
    original = Consumer.perform_seek

    async def perform_seek(self: Consumer) -> None:
        await original(self)
        await self.seek_wait(uncommitted_stream_partitions(self))

    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]
    setattr(Consumer, _APPLIED, True)


def uncommitted_stream_partitions(consumer: Consumer) -> dict:
    """tp -> 0 for the assigned stream partitions the group has no committed offset for (None or 0)."""
    changelogs = set(consumer.app.tables.changelog_topics)
    return {
        tp: 0
        for tp in consumer.assignment()
        if tp.topic not in changelogs and consumer._committed_offset.get(tp) is None
    }
