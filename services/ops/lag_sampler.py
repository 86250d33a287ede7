"""Reading consumer-group lag from Kafka (kafka-python admin client) and judging it with services/ops/lag.py.

`LagSampler.snapshot()` reads, for every group, its state and members (DescribeGroups), its committed
offsets (OffsetFetch) and the log-end offsets of every partition of the topics it consumes
(ListOffsets). `LagTracker.poll()` feeds one snapshot into the sliding windows and returns a `Report`.

Topics of a group: every topic it has committed offsets on, plus, for the worker group, the worker's
own input topics (so a partition the worker never committed on shows up, with committed None and lag
None, as Kafka's tool prints "-"). Topics a member has assigned but never commits on (Faust's changelog
and assignor topics) are left out, as Burrow leaves them out.

Lag in seconds (`lag_seconds`) is the age of the *next unconsumed message*: now minus the timestamp of
the record at the committed offset (its CreateTime, set by the producer), read with a group-less
consumer; 0 when the lag is 0. It says how old the oldest unprocessed event is; it is exact for
append-only topics and slightly low on compacted ones (a compacted-away record is replaced by the
next one). Throughput is offset deltas over the window: `consume_rate` (committed offsets) and
`produce_rate` (log-end offsets), in messages per second.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import OffsetSpec

from services.kafka import clients
from services.ops.lag import LagWindow, Sample, Status, finite, rate, worst
from services.ops.progress import worker_topics
from services.settings import Settings

log = logging.getLogger("matchmaker.lag")


def system_groups(settings: Settings, extra: list[str] | None = None) -> list[str]:
    """The worker group, the notifier group, then any others, without duplicates."""
    groups = [settings.app_id, settings.notifier_app_id, *(extra or [])]
    return list(dict.fromkeys(groups))


@dataclass(frozen=True)
class PartitionOffsets:
    topic: str
    partition: int
    committed: int | None
    end: int
    active: bool | None


@dataclass(frozen=True)
class GroupOffsets:
    group: str
    state: str  # Kafka's group state: Stable, Empty, PreparingRebalance, ..., Dead (unknown group)
    members: int
    partitions: list[PartitionOffsets]

    @property
    def has_commits(self) -> bool:
        return any(p.committed is not None for p in self.partitions)


class LagSampler:
    def __init__(self, settings: Settings, groups: list[str] | None = None, request_timeout_ms: int = 10_000) -> None:
        self.settings = settings
        self.groups = groups if groups is not None else system_groups(settings)
        self.known_topics = {settings.app_id: worker_topics(settings)}
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None
        self.request_timeout_ms = request_timeout_ms

    # -- connections ----------------------------------------------------------------------------
    @property
    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = clients.admin(
                self.settings, client_id="matchmaker-lag", request_timeout_ms=self.request_timeout_ms
            )
        return self._admin

    @property
    def consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = clients.consumer(
                self.settings,
                client_id="matchmaker-lag-age",
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=65_536,
                request_timeout_ms=max(self.request_timeout_ms, 5_000) + 1_000,
            )
        return self._consumer

    def reset(self) -> None:
        """Drop the connections (after an error); the next call reconnects."""
        self.close()

    def close(self) -> None:
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing a broken client
                    pass
        self._admin = self._consumer = None

    # -- reading --------------------------------------------------------------------------------
    def snapshot(self) -> tuple[float, list[GroupOffsets]]:
        admin = self.admin
        descriptions = self._describe(self.groups)
        committed = self._committed(self.groups)
        existing = set(admin.list_topics())
        wanted: dict[str, set[str]] = {}
        for group in self.groups:
            topics = {tp.topic for tp in committed.get(group, {})}
            if group in self.known_topics and (committed.get(group) or descriptions[group][1]):
                topics |= set(self.known_topics[group])
            wanted[group] = {t for t in topics if t in existing}
        all_topics = sorted(set().union(*wanted.values())) if wanted else []
        partitions_of: dict[str, list[int]] = {}
        if all_topics:
            for meta in admin.describe_topics(all_topics):
                partitions_of[meta["name"]] = sorted(p["partition_index"] for p in meta["partitions"])
        tps = [TopicPartition(t, p) for t in all_topics for p in partitions_of.get(t, [])]
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps}) if tps else {}
        at = time.time()
        result = []
        for group in self.groups:
            state, members, assigned = descriptions[group]
            offsets = committed.get(group, {})
            rows = []
            for topic in sorted(wanted[group]):
                for partition in partitions_of.get(topic, []):
                    tp = TopicPartition(topic, partition)
                    if tp not in ends:
                        continue
                    meta = offsets.get(tp)
                    value = meta.offset if meta is not None and meta.offset >= 0 else None
                    active = None if assigned is None else (tp in assigned)
                    if members == 0 and state != "Unknown":  # Unknown: not describable (e.g. KIP-848 groups)
                        active = False
                    rows.append(PartitionOffsets(topic, partition, value, ends[tp].offset, active))
            result.append(GroupOffsets(group, state, members, rows))
        return at, result

    def _describe(self, groups: list[str]) -> dict[str, tuple[str, int, set[TopicPartition] | None]]:
        """group -> (state, number of members, assigned partitions or None when they cannot be decoded)."""
        out: dict[str, tuple[str, int, set[TopicPartition] | None]] = {}
        try:
            described = self.admin.describe_groups(groups)
        except Exception as error:  # e.g. a group on the new consumer protocol
            log.debug("describe_groups failed: %s", error)
            described = {}
        for group in groups:
            info = described.get(group)
            if not info:
                out[group] = ("Unknown", 0, None)
                continue
            members = info.get("members") or []
            partitions: set[TopicPartition] = set()
            known = True  # False when a member's assignment cannot be read
            for member in members:
                assignment = member.get("member_assignment")
                if not isinstance(assignment, dict):
                    known = False
                    break
                for item in assignment.get("assigned_partitions") or []:
                    partitions.update(TopicPartition(item["topic"], p) for p in item["partitions"])
            assigned = (partitions if known else None) if members else set()
            out[group] = (info.get("group_state") or "Unknown", len(members), assigned)
        return out

    def _committed(self, groups: list[str]) -> dict[str, dict]:
        try:
            return self.admin.list_group_offsets({group: None for group in groups})
        except Exception as error:  # older brokers: one group per request
            log.debug("list_group_offsets for all groups failed (%s); asking one by one", error)
        result = {}
        for group in groups:
            result[group] = self.admin.list_group_offsets({group: None}).get(group, {})
        return result

    def next_message_ages(
        self, positions: dict[TopicPartition, int], now: float, timeout: float = 2.0
    ) -> dict[TopicPartition, float]:
        """Seconds since the record at each given offset was produced (the next unconsumed message)."""
        if not positions:
            return {}
        consumer = self.consumer
        consumer.assign(list(positions))
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        ages: dict[TopicPartition, float] = {}
        deadline = time.monotonic() + timeout
        while len(ages) < len(positions) and time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200, max_records=500)
            for tp, records in batch.items():
                if tp in ages or not records:
                    continue
                record = records[0]
                if record.timestamp is not None and record.timestamp >= 0:
                    ages[tp] = max(0.0, now - record.timestamp / 1000.0)
                consumer.pause(tp)
        consumer.assign([])
        return ages


# -- the report ---------------------------------------------------------------------------------


@dataclass
class PartitionReport:
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int | None
    lag_seconds: float | None
    status: str
    active: bool | None
    consume_rate: float | None
    produce_rate: float | None


@dataclass
class GroupReport:
    group: str
    status: str
    state: str
    members: int
    sum_lag: int
    max_lag: int
    max_lag_seconds: float
    consume_rate: float | None
    partitions: list[PartitionReport] = field(default_factory=list)


@dataclass
class Report:
    at: float
    samples: int  # samples in the window so far
    window_size: int
    interval: float
    groups: list[GroupReport]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def group(self, name: str) -> GroupReport | None:
        return next((g for g in self.groups if g.group == name), None)


class LagTracker:
    """Samples periodically (the caller's loop) and keeps the sliding windows."""

    def __init__(
        self,
        sampler: LagSampler,
        window_size: int = 10,
        interval: float = 1.0,
        history_size: int = 0,
        lag_seconds: bool = True,
    ) -> None:
        self.sampler = sampler
        self.windows = LagWindow(window_size, interval, history_size)
        self.lag_seconds = lag_seconds
        self.polls = 0
        self.last: Report | None = None

    def poll(self) -> Report:
        at, groups = self.sampler.snapshot()
        keep = set()
        ages: dict[str, dict[TopicPartition, float]] = {}
        for g in groups:
            lagging: dict[TopicPartition, int] = {}
            for p in g.partitions:
                keep.add((g.group, p.topic, p.partition))
                self.windows.add(g.group, p.topic, p.partition, Sample(at, p.committed, p.end, p.active))
                if p.committed is not None and p.end > p.committed:
                    lagging[TopicPartition(p.topic, p.partition)] = p.committed
            ages[g.group] = {}
            if self.lag_seconds and lagging:
                try:
                    ages[g.group] = self.sampler.next_message_ages(lagging, time.time())
                except Exception as error:  # the offsets are still worth reporting
                    log.warning("could not read message timestamps for lag_seconds: %s", error)
        self.windows.forget(keep)
        self.polls += 1
        reports = []
        for g in groups:
            rows = []
            for p in g.partitions:
                window = self.windows.partitions[(g.group, p.topic, p.partition)]
                samples = list(window.samples)
                lag = None if p.committed is None else max(0, p.end - p.committed)
                seconds = 0.0 if lag == 0 else ages[g.group].get(TopicPartition(p.topic, p.partition))
                rows.append(
                    PartitionReport(
                        p.topic,
                        p.partition,
                        p.committed,
                        p.end,
                        lag,
                        None if seconds is None else round(seconds, 3),
                        str(window.status()),
                        p.active,
                        _round(rate(samples, "committed")),
                        _round(rate(samples, "end")),
                    )
                )
            committed_rows = [r for r in rows if r.lag is not None]
            lags = [r.lag for r in committed_rows if r.lag is not None]
            if not g.has_commits and g.members == 0:
                status = Status.NOTFOUND
            else:
                status = worst(Status(r.status) for r in committed_rows) if committed_rows else Status.OK
            rates = [r.consume_rate for r in committed_rows if r.consume_rate is not None]
            reports.append(
                GroupReport(
                    g.group,
                    str(status),
                    g.state,
                    g.members,
                    sum(lags),
                    max(lags, default=0),
                    max((r.lag_seconds or 0.0 for r in committed_rows), default=0.0),
                    _round(sum(rates)) if rates else None,
                    rows,
                )
            )
        self.last = Report(at, min(self.polls, self.windows.size), self.windows.size, self.windows.interval, reports)
        return self.last

    def close(self) -> None:
        self.sampler.close()


def _round(value: float | None) -> float | None:
    value = finite(value)
    return None if value is None else round(value, 3)


# -- text output --------------------------------------------------------------------------------


def format_report(report: Report) -> str:
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(report.at))}  window {report.samples}/{report.window_size} "
        f"samples, every {report.interval:g}s"
    ]
    for g in report.groups:
        rate_text = "-" if g.consume_rate is None else f"{g.consume_rate:.1f} msg/s"
        lines.append(
            f"\nGROUP {g.group}  status {g.status}  state {g.state}  members {g.members}  "
            f"sum lag {g.sum_lag}  max lag {g.max_lag}  max lag {g.max_lag_seconds:.1f}s  consumed {rate_text}"
        )
        if not g.partitions:
            continue
        width = max(len("TOPIC"), *(len(p.topic) for p in g.partitions))
        lines.append(
            f"  {'TOPIC':<{width}} {'PART':>4} {'COMMITTED':>10} {'LOG-END':>10} {'LAG':>8} {'LAG-S':>8} {'MSG/S':>7}  STATUS"
        )
        for p in g.partitions:
            committed = "-" if p.committed is None else str(p.committed)
            lag = "-" if p.lag is None else str(p.lag)
            seconds = "-" if p.lag_seconds is None else f"{p.lag_seconds:.1f}"
            consumed = "-" if p.consume_rate is None else f"{p.consume_rate:.1f}"
            lines.append(
                f"  {p.topic:<{width}} {p.partition:>4} {committed:>10} {p.end:>10} {lag:>8} {seconds:>8} {consumed:>7}  {p.status}"
            )
    return "\n".join(lines)
