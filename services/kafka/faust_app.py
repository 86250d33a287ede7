"""The Faust settings every stream process of the project shares (worker, notifier)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import faust
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TableT
from faust.types.tuples import FutureMessage
from mode.utils.logging import redirect_stdouts

from services.kafka import clients, faust_patches
from services.settings import Settings, StoreKind

# Faust waits this long after a rebalance before it restores tables. With a short delay, a second
# rebalance right after the first (a member killed while another joins) left partitions assigned but
# never fetched in our SIGKILL test; Faust's default of 3 s let every run drain.
STREAM_RECOVERY_DELAY = 3.0

# How often a consumer refreshes topic metadata. A group leader that assigns while its metadata lacks a
# subscribed topic's partitions leaves them unassigned; the group rejoins only when a refresh shows the
# partition counts changed. With Kafka's default (300 s) a fresh clone's test run saw a replaying
# notifier hold no source partition at all for over 2 minutes; 10 s bounds that stall.
CONSUMER_METADATA_MAX_AGE_MS = 10_000

# Faust's store URL of each MATCHMAKER_STORE. `rocksdb://` opens the databases with the `rocksdict`
# binding when it is installed (a dependency of the project); faust-streaming has no `rocksdict://` URL.
STORE_URLS: dict[StoreKind, str] = {"rocksdb": "rocksdb://", "memory": "memory://"}

MIB = 1024 * 1024

# RocksDB options of each table partition's database (a worker opens one per table and partition it
# owns). Faust's defaults allow a 2 GiB block cache and 3 x 64 MiB write buffers per database: with
# 3 tables x 4 partitions that bounds nothing. These keep the resident part of each database small;
# what is not resident stays on disk and in the OS page cache, which serves a block cache miss (a
# table is read in full once, at a rebuild, then one record per event). At 100,000 companies in 4
# shards the companies databases hold 36 MB resident with these (2 x 4 MiB buffers, 4 MiB cache), 62 MB
# with 2 x 8 MiB and 8 MiB, 153 MB with 2 x 16 MiB and 32 MiB (`python -m bench.inproc memory 100000
# rocksdb`; writing them took as long, 2.5 s).
ROCKSDB_OPTIONS: dict[str, int] = {
    "write_buffer_size": 4 * MIB,
    "max_write_buffer_number": 2,
    "block_cache_size": 4 * MIB,
}


def raw_topic(app: faust.App, *names: str, partitions: int | None = None, internal: bool = False) -> faust.TopicT:
    """A topic whose keys and values stay bytes: the project decodes them itself (codec, typed messages)."""
    return app.topic(*names, partitions=partitions, internal=internal, key_serializer="raw", value_serializer="raw")


PRUNE_AT = 1024


class ConfirmedTable(faust.Table):
    """A table whose changelog writes can be awaited (`written`).

    Faust sends a table write to its changelog through the producer's buffer and does not wait for it
    before committing the offset of the event that made it: its pre-commit flush gives up after 0.1 s
    without a send (a leader election takes seconds). A process killed then had its event committed
    and its write lost, and the next owner of the partition recovered the table without it: a merge
    waited forever for a partial it had already counted, and the challenge's ranking was never sent.
    A stage therefore awaits its tables' writes before it releases the event (`acks.release`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: list[FutureMessage] = []

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        sent = super().send_changelog(*args, **kwargs)
        if len(self._unconfirmed) >= PRUNE_AT:  # writes nobody awaits (made outside an agent) stay bounded
            self._unconfirmed = [f for f in self._unconfirmed if not f.done() or f.cancelled() or f.exception()]
        self._unconfirmed.append(sent)
        return sent

    async def written(self) -> None:
        """Wait until the broker acknowledged every write made so far (acks=all)."""
        pending, self._unconfirmed = self._unconfirmed, []
        if pending:
            await asyncio.gather(*pending)


def json_table(
    app: faust.App,
    name: str,
    partitions: int,
    on_changelog_event: Callable[[faust.EventT], Awaitable[None]] | None = None,
) -> ConfirmedTable:
    """A changelog-backed table of JSON keys and values, no default (a missing key reads as None).

    `on_changelog_event` is awaited for each changelog record read to restore the table.
    """
    schema: faust.Schema = faust.Schema(key_serializer="json", value_serializer="json")
    # a fresh dict per table: Faust's RocksDB store pops keys from the options it is given
    options = dict(ROCKSDB_OPTIONS) if app.conf.store.scheme == "rocksdb" else None
    table = ConfirmedTable(
        app,
        name=name,
        default=None,
        beacon=app.tables.beacon,
        partitions=partitions,
        schema=schema,
        options=options,
        on_changelog_event=on_changelog_event,
    )
    app.tables.add(table)
    return table


def partition_items(table: TableT, partition: int) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs a table holds for `partition`; from the memory store, every pair (filter them).

    Faust's RocksDB store iterates only the databases it opened for the partitions the assignor lists as
    active, so `table.items()` is not a safe way to read one partition: a database it did not open when
    the partition was assigned (it gives up after a rebalance that raced a locked database) would be
    skipped without a word. This reads the partition's own database, opened if need be. The memory store
    records no partition for keys written at run time, so there the caller filters by content.
    """
    store = table.data
    if not isinstance(store, RocksDBStore):
        yield from table.items()
        return
    for key, value in store._visible_items(store._db_for_partition(partition)):
        yield store._decode_key(key), store._decode_value(value)


def data_dir(settings: Settings, app_id: str, web_port: int) -> Path:
    """Faust's datadir of one process: its tables live in <datadir>/v1/tables/<table>-<partition>.db.

    The web port is part of it because two processes on one host need different ports anyway, and two
    processes must never share a RocksDB database (RocksDB's lock refuses the second one).
    """
    return settings.home / "worker-data" / f"{app_id}-{web_port}"


def make_app(
    settings: Settings,
    app_id: str,
    partitions: int,
    web_port: int,
    web_host: str = "127.0.0.1",
    *,
    store: StoreKind,
) -> faust.App:
    """A Faust app on the configured cluster: tables in `store`, backed by changelog topics, acks=all."""
    datadir = data_dir(settings, app_id, web_port)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    faust_patches.apply()
    return clients.faust_app(
        settings,
        app_id,
        store=STORE_URLS[store],
        topic_partitions=partitions,
        topic_replication_factor=settings.replication_factor,
        table_standby_replicas=0,
        processing_guarantee=settings.processing_guarantee,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=max(1.0, settings.session_timeout / 5),
        broker_commit_interval=1.0,
        stream_recovery_delay=STREAM_RECOVERY_DELAY,
        consumer_metadata_max_age_ms=CONSUMER_METADATA_MAX_AGE_MS,
        producer_acks=-1,
        producer_linger=settings.producer_linger,
        web_port=web_port,
        web_host=web_host,
        datadir=str(datadir),
        loghandlers=[],
    )


def run_faust_worker(app: faust.App) -> NoReturn:
    """Run a Faust app in this process until SIGTERM/SIGINT, logging as `services.logs` configured it.

    Faust's Worker would replace the root handlers with its colour formatter; `override_logging=False`
    keeps ours. Its progress spinner writes terminal control codes to stdout even when stdout is a log
    file, so it is off; `quiet` silences its banner. Stray prints still become log records (WARNING), as
    Faust's own setup did, so a json-format process writes nothing but JSON lines.
    """
    worker = faust.Worker(app, quiet=True, override_logging=False)
    worker.spinner = None
    with redirect_stdouts(severity="WARNING"):
        worker.execute_from_commandline()
