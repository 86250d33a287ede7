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

from collections.abc import Iterable

import faust

from services.kafka.faust_app import ConfirmedTable


def hold(events: Iterable[faust.EventT]) -> None:
    for event in events:
        event.message.incref()


async def release(stream: faust.StreamT, events: Iterable[faust.EventT], tables: Iterable[ConfirmedTable] = ()) -> None:
    """Ack `events` once every write the stage made to `tables` is on the broker."""
    for table in tables:
        await table.written()
    for event in events:
        await stream.ack(event)
