"""The monitor: consumer-group lag for Prometheus, probes, and a live operator page.

    GET /            the operator page (services/monitor_static/; no internet needed: uPlot is vendored)
    GET /api/state   what the page shows, as JSON: groups, partitions, statuses, lag history, throughput,
                     dead letters, latest matches (and the workers' pipeline counters when configured)
    GET /metrics     Prometheus: kafka-lag-exporter's metric names plus matchmaker_* status gauges
    GET /healthz     liveness: the process answers and its sampling thread runs
    GET /readyz      readiness: the last sample of the broker succeeded recently (connected to Kafka)

Bound to loopback (the default) it is open; bound to another interface, everything but /healthz and
/readyz needs the operator token (services/ops/access.py).

A background thread samples every MATCHMAKER_MONITOR_INTERVAL seconds (services/ops/lag_sampler.py); the
status rules are Burrow's, over a window of MATCHMAKER_MONITOR_WINDOW samples (services/ops/lag.py).
Run with `matchmaker monitor`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import ValidationError

from schemas import DeadLetter
from services.kafka import clients, reader
from services.ops.access import OpsAccess, client_headers
from services.ops.lag import STATUS_CODES, Status
from services.ops.lag_sampler import LagSampler, LagTracker, Report, system_groups
from services.settings import Settings

log = logging.getLogger("matchmaker.monitor")
STATIC = Path(__file__).resolve().parent / "monitor_static"


# -- the sampling thread ------------------------------------------------------------------------


class TopicTail:
    """The last few records of a topic and its message count, re-read only when the topic grew."""

    def __init__(self, settings: Settings, topic: str, keep: int) -> None:
        self.settings, self.topic, self.keep = settings, topic, keep
        self._consumer: KafkaConsumer | None = None
        self._ends: dict[TopicPartition, int] | None = None
        self.count = 0
        self.latest: list[dict[str, Any]] = []

    def refresh(self) -> None:
        if self._consumer is None:
            self._consumer = clients.consumer(
                self.settings,
                client_id="matchmaker-monitor-tail",
                fetch_max_wait_ms=100,
                request_timeout_ms=11_000,
            )
        consumer = self._consumer
        partitions = [TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or [])]
        if not partitions:
            self.count, self.latest = 0, []
            return
        ends = consumer.end_offsets(partitions)
        if ends == self._ends:
            return
        starts = consumer.beginning_offsets(partitions)
        self.count = sum(max(0, ends[tp] - starts[tp]) for tp in partitions)
        records = reader.tail(consumer, partitions, starts, ends, self.keep)
        records.sort(key=lambda r: (r.timestamp, r.partition, r.offset), reverse=True)
        self.latest = [self._describe(r) for r in records[: self.keep]]
        self._ends = ends

    def _describe(self, record) -> dict[str, Any]:
        value: Any = None
        if record.value is not None:
            try:
                value = json.loads(record.value)
            except ValueError:
                value = record.value.decode("utf-8", "replace")[:200]
        return {
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": record.timestamp / 1000.0,
            "value": value,
        }

    def close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:
                pass
            self._consumer = None
            self._ends = None


class MonitorState:
    """Everything the endpoints serve, refreshed by one background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.monitor = monitor = settings.monitor
        self.groups = system_groups(settings, monitor.groups)
        self.tracker = LagTracker(
            LagSampler(settings, self.groups), window_size=monitor.window, interval=monitor.interval
        )
        self.dead_letters = TopicTail(settings, settings.topic_dead_letters, monitor.latest)
        self.matches = TopicTail(settings, settings.topic_matches, monitor.latest)
        self.history: deque[tuple[float, dict[str, dict[str, int | None]], dict[str, float | None]]] = deque(
            maxlen=monitor.history_size
        )
        self.report: Report | None = None
        self.pipeline: dict[str, float] | None = None
        self.last_ok: float | None = None
        self.failures = 0
        self.error: str | None = None
        self.polls = Counter(
            "matchmaker_monitor_polls_total", "Samples taken by the monitor, by outcome.", ["outcome"], registry=None
        )
        self.poll_seconds = Histogram(
            "matchmaker_monitor_poll_seconds",
            "Seconds one sample of all groups took.",
            registry=None,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lag-sampler", daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=15)
        self.tracker.close()
        self.dead_letters.close()
        self.matches.close()

    def _run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            self.poll_once()
            self.stopping.wait(max(0.0, self.monitor.interval - (time.monotonic() - started)))

    def poll_once(self) -> None:
        started = time.monotonic()
        try:
            report = self.tracker.poll()
        except Exception as error:  # broker away: report it, reconnect next time
            log.warning("sampling consumer groups failed: %s", error)
            self.tracker.sampler.reset()
            self.polls.labels("error").inc()
            with self.lock:
                self.failures += 1
                self.error = f"{type(error).__name__}: {error}"
            return
        lags = {
            g.group: {f"{p.topic}[{p.partition}]": p.lag for p in g.partitions if p.committed is not None}
            for g in report.groups
        }
        rates = {g.group: g.consume_rate for g in report.groups}
        extras_error = None
        for tail in (self.dead_letters, self.matches):
            try:
                tail.refresh()
            except Exception as error:  # lag is what matters; the lists can wait
                extras_error = f"{tail.topic}: {type(error).__name__}: {error}"
                tail.close()
        pipeline = self._scrape_workers()
        self.polls.labels("ok").inc()
        self.poll_seconds.observe(time.monotonic() - started)
        with self.lock:
            self.report = report
            self.history.append((report.at, lags, rates))
            self.pipeline = pipeline
            self.last_ok = time.time()
            self.failures = 0
            self.error = extras_error

    def _scrape_workers(self) -> dict[str, float] | None:
        if not self.monitor.worker_metrics_urls:
            return None
        import httpx
        from prometheus_client.parser import text_string_to_metric_families

        wanted = {
            "matchmaker_events_consumed": "events_consumed",
            "matchmaker_matches_emitted": "matches_emitted",
            "matchmaker_dead_letters": "dead_letters",
            "matchmaker_embedded_texts": "embedded_texts",
        }
        totals = {name: 0.0 for name in wanted.values()} | {"workers_up": 0.0}
        headers = client_headers(self.settings)  # workers off loopback want the operator token
        for url in self.monitor.worker_metrics_urls:
            try:
                response = httpx.get(url, timeout=3.0, headers=headers)
                response.raise_for_status()
            except httpx.HTTPError:
                continue
            text = response.text
            totals["workers_up"] += 1
            for family in text_string_to_metric_families(text):
                if family.name in wanted:
                    totals[wanted[family.name]] += sum(s.value for s in family.samples if s.name.endswith("_total"))
        return totals

    # -- views ----------------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    @property
    def ready(self) -> bool:
        with self.lock:
            return self.last_ok is not None and self.failures < self.monitor.ready_after_failures

    def state(self) -> dict[str, Any]:
        with self.lock:
            report, history, pipeline = self.report, list(self.history), self.pipeline
            error, last_ok = self.error, self.last_ok
        groups = report.to_dict()["groups"] if report else []
        charts = {}
        for group in self.groups:
            keys: list[str] = []
            for _, lags, _ in history:
                for key in lags.get(group, {}):
                    if key not in keys:
                        keys.append(key)
            charts[group] = {
                "t": [at for at, _, _ in history],
                "series": {key: [lags.get(group, {}).get(key) for _, lags, _ in history] for key in keys},
                "consume_rate": [rates.get(group) for _, _, rates in history],
            }
        topics: dict[str, dict[int, float]] = {}
        if report:
            for g in report.groups:
                for p in g.partitions:
                    if p.produce_rate is not None:
                        topics.setdefault(p.topic, {})[p.partition] = p.produce_rate
        return {
            "at": report.at if report else None,
            "ready": self.ready,
            "last_ok": last_ok,
            "error": error,
            "interval": self.monitor.interval,
            "window": self.monitor.window,
            "history_seconds": self.monitor.history_seconds,
            "status_codes": dict(STATUS_CODES),
            "groups": groups,
            "history": charts,
            "produce_rate": {t: round(sum(v.values()), 3) for t, v in sorted(topics.items())},
            "dead_letters": {
                "topic": self.dead_letters.topic,
                "count": self.dead_letters.count,
                "latest": [_dead_letter(item) for item in self.dead_letters.latest],
            },
            "matches": {
                "topic": self.matches.topic,
                "count": self.matches.count,
                "latest": [_match(item) for item in self.matches.latest],
            },
            "pipeline": pipeline,
        }


def _dead_letter(item: dict[str, Any]) -> dict[str, Any]:
    """One dead letter for the page, read through its contract; a record that does not fit it is shown as `?`."""
    try:
        letter = DeadLetter.model_validate(item["value"])
    except ValidationError:
        return {"at": item["timestamp"], "reason": "?", "source_topic": None, "key": None, "seen_at": None}
    return {
        "at": item["timestamp"],
        "reason": letter.reason,
        "source_topic": letter.source_topic,
        "key": letter.key,
        "seen_at": letter.seen_at.isoformat(),
    }


def _match(item: dict[str, Any]) -> dict[str, Any]:
    value = item["value"] if isinstance(item["value"], dict) else {}
    keys = ("challenge_id", "company_id", "rank", "score", "trigger", "produced_at")
    return {"at": item["timestamp"], **{k: value.get(k) for k in keys}}


# -- Prometheus ---------------------------------------------------------------------------------


class LagCollector:
    """Turns the latest report into metric families at scrape time (no stale label sets)."""

    def __init__(self, state: MonitorState) -> None:
        self.state = state

    def collect(self):
        with self.state.lock:
            report, last_ok = self.state.report, self.state.last_ok
        part = ["group", "topic", "partition"]
        lag = GaugeMetricFamily(
            "kafka_consumergroup_group_lag", "Group offset lag of a partition (log-end - committed).", labels=part
        )
        lag_s = GaugeMetricFamily(
            "kafka_consumergroup_group_lag_seconds",
            "Age in seconds of the partition's next unconsumed message (0 when caught up).",
            labels=part,
        )
        offset = GaugeMetricFamily(
            "kafka_consumergroup_group_offset", "Last committed offset of a group on a partition.", labels=part
        )
        max_lag = GaugeMetricFamily("kafka_consumergroup_group_max_lag", "Max group offset lag.", labels=["group"])
        max_lag_s = GaugeMetricFamily(
            "kafka_consumergroup_group_max_lag_seconds", "Max group lag in seconds.", labels=["group"]
        )
        sum_lag = GaugeMetricFamily("kafka_consumergroup_group_sum_lag", "Sum of group offset lag.", labels=["group"])
        topic_sum = GaugeMetricFamily(
            "kafka_consumergroup_group_topic_sum_lag", "Sum of group offset lag on a topic.", labels=["group", "topic"]
        )
        latest = GaugeMetricFamily(
            "kafka_partition_latest_offset", "Log-end offset of a partition.", labels=["topic", "partition"]
        )
        status = GaugeMetricFamily(
            "matchmaker_consumergroup_status",
            "Burrow-style group status: -1 NOTFOUND, 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP (worst partition).",
            labels=["group"],
        )
        part_status = GaugeMetricFamily(
            "matchmaker_consumergroup_partition_status",
            "Burrow-style partition status: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP.",
            labels=part,
        )
        members = GaugeMetricFamily("matchmaker_consumergroup_members", "Live members of the group.", labels=["group"])
        rate = GaugeMetricFamily(
            "matchmaker_consumergroup_consume_rate",
            "Messages/s committed by the group over the window.",
            labels=["group"],
        )
        last = GaugeMetricFamily("matchmaker_monitor_last_success_timestamp_seconds", "When the last sample succeeded.")
        if last_ok is not None:
            last.add_metric([], last_ok)
        if report is not None:
            seen_topics: set[tuple[str, int]] = set()
            for g in report.groups:
                status.add_metric([g.group], Status(g.status).severity)
                members.add_metric([g.group], g.members)
                if g.status == Status.NOTFOUND.value:
                    continue
                max_lag.add_metric([g.group], g.max_lag)
                max_lag_s.add_metric([g.group], g.max_lag_seconds)
                sum_lag.add_metric([g.group], g.sum_lag)
                if g.consume_rate is not None:
                    rate.add_metric([g.group], g.consume_rate)
                per_topic: dict[str, int] = {}
                for p in g.partitions:
                    if (p.topic, p.partition) not in seen_topics:
                        seen_topics.add((p.topic, p.partition))
                        latest.add_metric([p.topic, str(p.partition)], p.end)
                    if p.lag is None:
                        continue
                    labels = [g.group, p.topic, str(p.partition)]
                    lag.add_metric(labels, p.lag)
                    offset.add_metric(labels, p.committed)
                    if p.lag_seconds is not None:
                        lag_s.add_metric(labels, p.lag_seconds)
                    part_status.add_metric(labels, Status(p.status).severity)
                    per_topic[p.topic] = per_topic.get(p.topic, 0) + p.lag
                for topic, value in per_topic.items():
                    topic_sum.add_metric([g.group, topic], value)
        yield from (
            lag,
            lag_s,
            offset,
            max_lag,
            max_lag_s,
            sum_lag,
            topic_sum,
            latest,
            status,
            part_status,
            members,
            rate,
            last,
        )


# -- the app ------------------------------------------------------------------------------------


def create_app(settings: Settings, start: bool = True) -> FastAPI:
    """The monitor's app; ConfigurationError when it would listen off loopback without the operator token."""
    from contextlib import asynccontextmanager

    access = OpsAccess.for_host(settings, settings.monitor.host, "monitor")
    state = MonitorState(settings)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LagCollector(state))
    registry.register(state.polls)
    registry.register(state.poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start:
            state.start()
        yield
        if start:
            state.stop()

    app = FastAPI(title="Six Cities Matchmaker monitor", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.monitor = state

    if not access.open:

        @app.middleware("http")
        async def operator_only(request: Request, call_next: Any) -> Response:
            denial = access.check(request.scope["path"], request.headers.get("authorization"))
            if denial is not None:
                return JSONResponse({"detail": denial.detail}, 401, headers={"WWW-Authenticate": denial.challenge})
            return await call_next(request)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        alive = state.alive or not start
        return JSONResponse({"status": "ok" if alive else "sampler thread died"}, status_code=200 if alive else 503)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ready = state.ready
        body = {"ready": ready, "last_ok": state.last_ok, "error": state.error}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/api/state")
    def api_state() -> JSONResponse:
        return JSONResponse(state.state(), headers={"Cache-Control": "no-store"})

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def serve(settings: Settings) -> None:
    import uvicorn

    settings = settings.as_principal("monitor")
    monitor = settings.monitor
    app = create_app(settings)  # first: it refuses an exposed port without the operator token
    banner = (
        f"monitor on http://{monitor.host}:{monitor.port}/ (groups: {', '.join(system_groups(settings, monitor.groups))}; "
        f"broker {settings.bootstrap_servers})"
    )
    if settings.log_format == "json":  # a json-format process writes nothing but log records
        log.info(banner)
    else:
        print(banner, flush=True)
    uvicorn.run(
        app, host=monitor.host, port=monitor.port, log_level="warning", log_config=None
    )  # log through services.logs
