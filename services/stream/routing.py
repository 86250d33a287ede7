"""Which shard-input partitions an entity goes to (pure)."""

from __future__ import annotations

from kafka.partitioner.default import murmur2


def shard_of(key: str, shards: int) -> int:
    """Kafka's default partitioner (murmur2), so Java and Python producers agree on a key's shard."""
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % shards


def shards_for(kind: str, key: str, shards: int) -> range | list[int]:
    """Companies go to their shard; challenges to every shard (every shard ranks its companies)."""
    return range(shards) if kind == "challenge" else [shard_of(key, shards)]
