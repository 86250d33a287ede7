"""The Faust settings every stream process of the project shares (worker, notifier)."""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

import faust
from faust.types.tuples import FutureMessage
from mode.utils.logging import redirect_stdouts

from services.kafka import clients, faust_patches
from services.settings import Settings

# Faust waits this long after a rebalance before it restores tables. With a short delay, a second
# rebalance right after the first (a member killed while another joins) left partitions assigned but
# never fetched in our SIGKILL test; Faust's default of 3 s let every run drain.
STREAM_RECOVERY_DELAY = 3.0

# How often a consumer refreshes topic metadata. A group leader that assigns while its metadata lacks a
# subscribed topic's partitions leaves them unassigned; the group rejoins only when a refresh shows the
# partition counts changed. With Kafka's default (300 s) a fresh clone's test run saw a replaying
# notifier hold no source partition at all for over 2 minutes; 10 s bounds that stall.
CONSUMER_METADATA_MAX_AGE_MS = 10_000


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


def json_table(app: faust.App, name: str, partitions: int) -> ConfirmedTable:
    """A changelog-backed table of JSON keys and values, no default (a missing key reads as None)."""
    schema: faust.Schema = faust.Schema(key_serializer="json", value_serializer="json")
    table = ConfirmedTable(app, name=name, default=None, beacon=app.tables.beacon, partitions=partitions, schema=schema)
    app.tables.add(table)
    return table


def make_app(settings: Settings, app_id: str, partitions: int, web_port: int, web_host: str = "127.0.0.1") -> faust.App:
    """A Faust app on the configured cluster: in-memory tables backed by changelog topics, acks=all."""
    (settings.home / "worker-data").mkdir(parents=True, exist_ok=True)
    faust_patches.apply()
    return clients.faust_app(
        settings,
        app_id,
        store="memory://",
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
        datadir=str(settings.home / "worker-data" / f"{app_id}-{web_port}"),
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
