"""deploy/prometheus/alerts.yml evaluated by a real Prometheus that scrapes a real worker and a real monitor:
every metric the alerts read exists, a healthy system raises no alert, and the consumer-stopped alert fires
once the worker is stopped while events wait.

Prometheus is Debian's `prometheus` binary (make test installs it), on a free loopback port with its own
config and storage in a temporary folder, scraping and evaluating every second. The scrape jobs are
deploy/prometheus/prometheus.yml's with static loopback targets in place of Kubernetes discovery and no
bearer token (on loopback /metrics is open). The rules are alerts.yml's with every `for:` cut to
seconds: the expressions are the shipped ones, only the waiting is scaled down to a test's length.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.cli.processes import stop_process
from services.kafka import clients
from services.settings import Settings
from tests.support import ARTIFACTS, PROJECT_ROOT
from tests.support.broker import free_port
from tests.support.monitor import monitor_process
from tests.support.processes import WorkerProcess
from tests.support.waiting import wait_until

yaml = pytest.importorskip("yaml")

pytestmark = pytest.mark.integration

DEPLOY = PROJECT_ROOT / "deploy" / "prometheus"
STOPPED_ALERT = "MatchmakerConsumerGroupStopped"  # alerts.yml's alert for a STALLED or STOPPED group
SHORT_FOR = "2s"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: names outside {...}, [...] and by/on (...), not called."""
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    return {name for name in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", expr) if name not in PROMQL_WORDS}


def rules_with_short_for() -> dict[str, Any]:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = SHORT_FOR
    return rules


def prometheus_config(rules: Path, targets: dict[str, str]) -> dict[str, Any]:
    """prometheus.yml's scrape jobs (names, paths) with `targets` (job -> host:port) and 1 s intervals."""
    shipped = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = []
    for job in shipped["scrape_configs"]:
        local = {k: v for k, v in job.items() if k not in ("authorization", "kubernetes_sd_configs", "relabel_configs")}
        jobs.append({**local, "static_configs": [{"targets": [targets[job["job_name"]]]}]})
    assert {job["job_name"] for job in jobs} == set(targets)
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": jobs,
    }


class Prometheus:
    """A prometheus server process and the two API calls the test needs."""

    def __init__(self, base: str) -> None:
        self.base = base

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/api/v1/query", params={"query": promql}, timeout=5).json()
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts."""
        return list(httpx.get(f"{self.base}/api/v1/alerts", timeout=5).json()["data"]["alerts"])


@pytest.fixture(scope="module")
def consumed(namespace: Settings, worker: WorkerProcess) -> Settings:
    """A malformed message on every partition of the companies topic, dead-lettered by the worker: every
    partition then has a committed offset (no model call needed), and the worker's dead-letter counter exists."""
    producer = clients.producer(namespace, client_id="matchmaker-test")
    partitions = sorted(producer.partitions_for(namespace.topic_companies))
    for partition in partitions:
        producer.send(
            namespace.topic_companies, key=f"co-bad-{partition}".encode(), value=b"{not json", partition=partition
        )
    producer.flush()
    producer.close()
    worker.drain()
    return namespace


@pytest.fixture(scope="module")
def monitor(consumed: Settings) -> Iterator[str]:
    # a sample every 0.5 s, statuses over the last 4 samples (2 s)
    with monitor_process(
        consumed, "alerts-monitor", MATCHMAKER_MONITOR_INTERVAL="0.5", MATCHMAKER_MONITOR_WINDOW="4"
    ) as base:
        yield base.removeprefix("http://")


@pytest.fixture(scope="module")
def prometheus(consumed: Settings, monitor: str, tmp_path_factory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the prometheus binary is needed (make test installs it: apt-get install prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    rules = folder / "alerts.yml"
    rules.write_text(yaml.safe_dump(rules_with_short_for(), sort_keys=False))
    config = folder / "prometheus.yml"
    targets = {"matchmaker-monitor": monitor, "matchmaker-worker": f"127.0.0.1:{consumed.worker_web_port}"}
    config.write_text(yaml.safe_dump(prometheus_config(rules, targets), sort_keys=False))
    port = free_port()
    log_path = ARTIFACTS / "logs" / f"{consumed.app_id}-prometheus.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, log_path.read_text()
        try:
            return httpx.get(f"{base}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(ready, 60, interval=0.3), "prometheus never became ready: " + log_path.read_text()
    yield Prometheus(base)
    stop_process(process, timeout=20)


def test_consumer_stopped_alert_fires_when_the_worker_stops_with_events_waiting(
    consumed: Settings, worker: WorkerProcess, prometheus: Prometheus
):
    group = consumed.app_id
    scraped = wait_until(
        lambda: (
            prometheus.query('up{job="matchmaker-worker"} == 1')
            and prometheus.query('up{job="matchmaker-monitor"} == 1')
            and prometheus.query(f'matchmaker_consumergroup_status{{group="{group}"}} == 0')
        ),
        60,
        interval=0.5,
    )
    assert scraped, f"targets or the group's OK status never seen: {prometheus.query('up')}"

    # every metric an alert reads is one that the real worker and monitor expose
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    names = set().union(*(metric_names(r["expr"]) for g in rules["groups"] for r in g["rules"]))
    missing = sorted(name for name in names if not prometheus.query(f"count({name})"))
    assert missing == [], f"alerts.yml reads metrics that no scraped process exposes: {missing}"
    assert {"matchmaker_consumergroup_status", "up"} <= names  # metric_names() finds names at all

    time.sleep(4)  # longer than every shortened `for:` plus an evaluation: a healthy system stays silent
    assert prometheus.alerts() == []

    worker.stop()
    producer = clients.producer(consumed, client_id="matchmaker-test")
    for partition in sorted(producer.partitions_for(consumed.topic_companies)):
        producer.send(consumed.topic_companies, key=f"co-late-{partition}".encode(), value=b"{}", partition=partition)
    producer.flush()
    producer.close()

    def stopped_alert() -> dict[str, Any] | None:
        return next(
            (
                a
                for a in prometheus.alerts()
                if a["labels"]["alertname"] == STOPPED_ALERT and a["labels"].get("group") == group
            ),
            None,
        )

    fired = wait_until(lambda: (alert := stopped_alert()) is not None and alert["state"] == "firing", 90, 0.5)
    assert fired, (
        f"{STOPPED_ALERT} not firing; alerts {prometheus.alerts()}, "
        f"status {prometheus.query(f'matchmaker_consumergroup_status{{group={group!r}}}')}"
    )
    alert = stopped_alert()
    assert alert is not None
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["job"] == "matchmaker-monitor"
    assert alert["annotations"]["summary"] == f"Consumer group {group} is STALLED or STOPPED"
    assert float(alert["value"]) >= 3  # STALL (3) or STOP (4)
    firing = {a["labels"]["alertname"] for a in prometheus.alerts() if a["state"] == "firing"}
    assert "MatchmakerMonitorDown" not in firing
