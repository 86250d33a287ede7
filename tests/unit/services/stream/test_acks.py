"""Events are committed only after their outputs: Faust's own ack (in a `finally`) is never the final one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.stream.acks import hold, release


class Message:
    """Faust's reference counting, as faust.types.tuples.Message does it."""

    def __init__(self) -> None:
        self.refcount, self.acked = 1, False  # one reference: the stream that yielded it
        self.topic, self.partition, self.offset = "companies", 0, 7

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


def test_an_event_is_not_committed_before_its_stage_s_table_writes_are_on_the_broker(monkeypatch):
    import faust

    from services.kafka.faust_app import ConfirmedTable, json_table

    async def scenario():
        sends: list[asyncio.Future] = []

        def send_changelog(self, *args, **kwargs):  # the producer's buffer: acknowledged later
            sends.append(asyncio.get_running_loop().create_future())
            return sends[-1]

        monkeypatch.setattr(faust.Table, "send_changelog", send_changelog)
        table = json_table(faust.App("acks-test", store="memory://"), "merges", 1)
        assert isinstance(table, ConfirmedTable)
        table.send_changelog(0, "challenge-1", {"shards": [0]})  # what `table[key] = value` sends
        e = event()
        hold([e])
        releasing = asyncio.ensure_future(release(Stream(), [e], [table]))
        await asyncio.sleep(0.01)
        e.ack()  # Faust's own ack
        before = e.message.acked
        sends[0].set_result(None)  # the broker acknowledged the write
        await releasing
        return before, e.message.acked

    before, after = asyncio.run(scenario())
    assert (before, after) == (False, True)
