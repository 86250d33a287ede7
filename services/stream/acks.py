"""Acknowledge a stream's events only once their outputs are confirmed.

Faust acks each event in a `finally` of its stream iterators: when the next event (or batch) is asked for,
but also when the agent raises or the stream is closed, for instance while the worker stops. An event
whose outputs were never sent is then committed, and lost. Each stage therefore holds one more reference
to its events while it processes them (`hold`), so Faust's own ack is never the final one, and gives it
back (`release`) once the broker confirmed the outputs and the stage's table writes (see
`faust_app.ConfirmedTable`). An event not released is never committed: the next owner of its partition
processes it again, and the outputs are idempotent (same match_ids).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import faust

from services.kafka.faust_app import ConfirmedTable

# (topic, partition) -> offsets a stage holds now: what the watchdog counts as work in progress. Faust's own
# `_unacked_messages` also keeps messages it dropped without delivering them (seen after a rebalance), so a
# partition stalled behind such a message looked busy forever.
_IN_HAND: dict[tuple[str, int], Counter[int]] = defaultdict(Counter)


def hold(events: Iterable[faust.EventT]) -> None:
    for event in events:
        event.message.incref()
        _IN_HAND[(event.message.topic, event.message.partition)][event.message.offset] += 1


def in_hand(topic: str, partition: int) -> set[int]:
    """The offsets of (topic, partition) a stage holds now (held, not yet released)."""
    return set(_IN_HAND.get((topic, partition), ()))


async def release(stream: faust.StreamT, events: Iterable[faust.EventT], tables: Iterable[ConfirmedTable] = ()) -> None:
    """Ack `events` once every write the stage made to `tables` is on the broker."""
    for table in tables:
        await table.written()
    for event in events:
        await stream.ack(event)
        _forget(event.message.topic, event.message.partition, event.message.offset)


def _forget(topic: str, partition: int, offset: int) -> None:
    held = _IN_HAND[(topic, partition)]
    held[offset] -= 1
    if held[offset] <= 0:
        del held[offset]
