"""MATCHMAKER_STORE picks the Faust store of the worker's tables (RocksDB by default, memory on request);
each process's RocksDB files live in a directory of its own; the notifier stays in memory."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from faust.stores.memory import Store as MemoryStore
from faust.stores.rocksdb import Store as RocksDBStore

from services.kafka.faust_app import ROCKSDB_OPTIONS, json_table, make_app, partition_items
from services.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, kafka_security_protocol="PLAINTEXT")


def test_the_store_setting_defaults_to_rocksdb_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv("MATCHMAKER_STORE", raising=False)
    assert Settings().store == "rocksdb"
    monkeypatch.setenv("MATCHMAKER_STORE", "memory")
    assert Settings().store == "memory"
    monkeypatch.setenv("MATCHMAKER_STORE", "redis")
    with pytest.raises(ValueError, match="store"):
        Settings()


def test_rocksdb_tables_use_rocksdict_with_bounded_options(settings):
    app = make_app(settings, "mm", 4, 6066, store="rocksdb")
    table = json_table(app, "companies", 4)
    other = json_table(app, "challenges", 4)
    assert app.conf.store.scheme == "rocksdb"
    assert isinstance(table.data, RocksDBStore) and table.data.use_rocksdict  # no python-rocksdb needed
    options = table.data.rocksdb_options
    assert (options.block_cache_size, options.write_buffer_size, options.max_write_buffer_number) == (
        ROCKSDB_OPTIONS["block_cache_size"],
        ROCKSDB_OPTIONS["write_buffer_size"],
        ROCKSDB_OPTIONS["max_write_buffer_number"],
    )
    assert other.data.rocksdb_options.block_cache_size == ROCKSDB_OPTIONS["block_cache_size"]
    assert ROCKSDB_OPTIONS["block_cache_size"] == 4 * 1024 * 1024  # Faust popped nothing from the shared dict


def test_memory_tables_when_asked(settings):
    app = make_app(settings, "mm", 4, 6066, store="memory")
    assert app.conf.store.scheme == "memory"
    assert isinstance(json_table(app, "companies", 4).data, MemoryStore)


def test_each_process_has_its_own_rocksdb_files(settings):
    """Faust's path is <datadir>/v1/tables/<table>-<partition>.db; the datadir names the app id and web port."""

    def partition_path(app_id: str, port: int):
        store = json_table(make_app(settings, app_id, 4, port, store="rocksdb"), "companies", 4).data
        assert isinstance(store, RocksDBStore)
        return store.partition_path(2)

    path = partition_path("mm", 6066)
    assert path == settings.home / "worker-data" / "mm-6066" / "v1" / "tables" / "companies-2.db"
    assert path == partition_path("mm", 6066), "a restarted process finds its own files again"
    assert len({path, partition_path("mm", 6068), partition_path("other", 6066)}) == 3


def test_the_worker_follows_the_setting_and_the_notifier_stays_in_memory(settings):
    from services.delivery.notifier import Notifier
    from services.stream.worker import MatchWorker

    assert isinstance(MatchWorker(settings).companies.data, RocksDBStore)
    assert isinstance(MatchWorker(settings.model_copy(update={"store": "memory"})).companies.data, MemoryStore)
    assert isinstance(Notifier(settings, 1).deliveries.data, MemoryStore)


def changelog_event(partition: int, offset: int, key: str, value: dict):
    """A changelog record as Faust's recovery hands it to a store."""
    from faust.types import TP

    message = SimpleNamespace(
        tp=TP("mm-companies-changelog", partition),
        partition=partition,
        offset=offset,
        key=json.dumps(key).encode(),
        value=json.dumps(value).encode(),
    )
    return SimpleNamespace(message=message)


def test_partition_items_reads_one_partition_whatever_the_assignor_lists(settings):
    """The shard stage rebuilds a shard's index from its partition: all of that partition, nothing else, even
    where Faust's own iteration (active partitions with an open database) would see nothing."""
    table = json_table(make_app(settings, "mm", 4, 6066, store="rocksdb"), "companies", 4)
    records = {p: {f"co-{p}-{i}": {"shard": p, "version": i} for i in range(3)} for p in (1, 2)}
    events = [changelog_event(p, i, k, v) for p in records for i, (k, v) in enumerate(records[p].items())]
    table.data.apply_changelog_batch(events, to_key=None, to_value=None)
    assert list(table.items()) == []  # Faust's own iteration: only what the assignor lists as active (nothing here)
    table.data._dbs.clear()  # as after a restart: nothing opened yet
    assert dict(partition_items(table, 1)) == records[1]
    assert dict(partition_items(table, 2)) == records[2]
    assert dict(partition_items(table, 3)) == {}
    assert table.data.persisted_offset(events[-1].message.tp) == 2  # where recovery resumes after a restart


def test_partition_items_of_the_memory_store_are_every_item(settings):
    table = json_table(make_app(settings, "mm", 4, 6066, store="memory"), "companies", 4)
    table.data.update({"a": {"shard": 0}, "b": {"shard": 1}})
    assert dict(partition_items(table, 1)) == {"a": {"shard": 0}, "b": {"shard": 1}}
