"""The embed stage routes in input order: a tombstone never overtakes an earlier version of its id."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np

from services.settings import Settings
from services.stream.embed import EmbedStage
from services.stream.messages import ShardInput
from tests.support.kafka import company


class Topic:
    """Records what is sent; every send is acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, ShardInput]] = []

    async def send(self, key: bytes, value: bytes, partition: int | None = None) -> asyncio.Future:
        self.sent.append((key, ShardInput.from_json(value)))
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class Encoder:
    model = SimpleNamespace(name="fake-model")

    async def encode(self, texts: list[str], stage: str) -> np.ndarray:
        await asyncio.sleep(0)  # the model runs in its thread: other work may go on meanwhile
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def event(offset: int, key: str, value: bytes | None) -> SimpleNamespace:
    message = SimpleNamespace(
        topic="companies", key=key.encode(), value=value, partition=0, offset=offset, timestamp=1.0
    )
    return SimpleNamespace(message=message)


def test_a_version_and_the_tombstone_after_it_in_one_batch_reach_the_shard_in_that_order():
    settings = Settings(shards=2)
    shard_input = Topic()
    stage = EmbedStage(settings, Encoder(), shard_input, Topic())
    batch = [
        event(0, "co-1", company("co-1", version=5).model_dump_json().encode()),
        event(1, "co-1", None),  # erased two seconds later; both waited in the backlog after a rebalance
        event(2, "co-2", company("co-2", version=1).model_dump_json().encode()),
    ]
    asyncio.run(stage.batch(batch))
    for_co_1 = [payload for key, payload in shard_input.sent if key == b"co-1"]
    assert [(p.entity or {}).get("version") if p.deleted is None else "deleted" for p in for_co_1] == [5, "deleted"]
    assert [key for key, _ in shard_input.sent] == [b"co-1", b"co-1", b"co-2"]
