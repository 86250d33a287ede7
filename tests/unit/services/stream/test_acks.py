"""Events are committed only after their outputs: Faust's own ack (in a `finally`) is never the final one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.stream.acks import hold, release


class Message:
    """Faust's reference counting, as faust.types.tuples.Message does it."""

    def __init__(self) -> None:
        self.refcount, self.acked = 1, False  # one reference: the stream that yielded it

    def incref(self) -> None:
        self.refcount += 1

    def ack(self) -> bool:
        self.refcount -= 1
        self.acked = self.refcount == 0
        return self.acked


def event() -> SimpleNamespace:
    message = Message()
    return SimpleNamespace(message=message, ack=message.ack)


class Stream:
    async def ack(self, event) -> bool:
        return event.ack()


def test_faust_acking_a_held_event_in_its_finally_does_not_commit_it():
    events = [event(), event()]
    hold(events)
    for e in events:  # the agent raised or its stream was closed: only Faust's `finally` acks
        e.ack()
    assert not any(e.message.acked for e in events)


def test_released_events_are_committed_once_faust_acks_them_too():
    events = [event(), event()]
    hold(events)
    asyncio.run(release(Stream(), events))  # outputs confirmed
    for e in events:
        e.ack()  # Faust's own ack when the next event is asked for
    assert all(e.message.acked for e in events)
