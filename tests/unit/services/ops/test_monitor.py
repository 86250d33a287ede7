"""The monitor without a broker: settings, Prometheus exposition, endpoints, vendored assets, deploy files."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from services.ops.lag_sampler import GroupReport, PartitionReport, Report, format_report
from services.ops.monitor import STATIC, LagCollector, MonitorState, create_app
from services.settings import MonitorSettings, Settings
from tests.support import PROJECT_ROOT


def report() -> Report:
    parts = [
        PartitionReport("companies", 0, 10, 40, 30, 12.5, "STOP", False, 0.0, 2.0),
        PartitionReport("companies", 1, 7, 7, 0, 0.0, "OK", False, 0.0, 0.0),
        PartitionReport("challenges", 0, None, 3, None, None, "OK", False, None, 0.0),
    ]
    return Report(
        at=time.time(),
        samples=5,
        window_size=5,
        interval=1.0,
        groups=[
            GroupReport("matchmaker", "STOP", "Empty", 0, 30, 30, 12.5, 0.0, parts),
            GroupReport("matchmaker-notifier", "NOTFOUND", "Dead", 0, 0, 0, 0.0, None, []),
        ],
    )


def test_monitor_settings_from_environment(monkeypatch):
    monkeypatch.setenv("MATCHMAKER_MONITOR_PORT", "9400")
    monkeypatch.setenv("MATCHMAKER_MONITOR_GROUPS", "billing, audit")
    monkeypatch.setenv("MATCHMAKER_MONITOR_WORKER_METRICS_URLS", '["http://w1:6066/metrics"]')
    monitor = Settings().monitor
    assert monitor.port == 9400 and monitor.groups == ["billing", "audit"]
    assert monitor.worker_metrics_urls == ["http://w1:6066/metrics"]
    assert MonitorSettings(interval=10, history_seconds=3600).history_size == 361
    monkeypatch.delenv("MATCHMAKER_MONITOR_PORT")
    assert Settings().monitor.port == 9308


def exposition(state: MonitorState) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LagCollector(state))
    return generate_latest(registry).decode()


def test_prometheus_names_are_kafka_lag_exporters():
    state = MonitorState(Settings())
    assert "kafka_consumergroup_group_lag{" not in exposition(state)  # nothing sampled yet: no series
    state.report, state.last_ok = report(), time.time()
    text = exposition(state)
    assert 'kafka_consumergroup_group_lag{group="matchmaker",partition="0",topic="companies"} 30.0' in text
    assert 'kafka_consumergroup_group_lag{group="matchmaker",partition="1",topic="companies"} 0.0' in text
    assert 'kafka_consumergroup_group_lag_seconds{group="matchmaker",partition="0",topic="companies"} 12.5' in text
    assert 'kafka_consumergroup_group_max_lag{group="matchmaker"} 30.0' in text
    assert 'kafka_consumergroup_group_sum_lag{group="matchmaker"} 30.0' in text
    assert 'kafka_consumergroup_group_max_lag_seconds{group="matchmaker"} 12.5' in text
    assert 'kafka_consumergroup_group_topic_sum_lag{group="matchmaker",topic="companies"} 30.0' in text
    assert 'kafka_partition_latest_offset{partition="0",topic="challenges"} 3.0' in text
    assert 'matchmaker_consumergroup_status{group="matchmaker"} 4.0' in text
    assert 'matchmaker_consumergroup_status{group="matchmaker-notifier"} -1.0' in text
    assert 'matchmaker_consumergroup_partition_status{group="matchmaker",partition="0",topic="companies"} 4.0' in text
    # a partition never committed has no lag series (Kafka's tool prints "-"), and a NOTFOUND group no lag at all
    assert 'topic="challenges"} ' not in text.split("kafka_partition_latest_offset")[0]
    assert 'kafka_consumergroup_group_sum_lag{group="matchmaker-notifier"}' not in text


def test_endpoints_without_a_broker():
    app = create_app(Settings(), start=False)
    state: MonitorState = app.state.monitor
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503  # never sampled the broker: not ready
        state.report, state.last_ok = report(), time.time()
        assert client.get("/readyz").json()["ready"] is True
        state.failures = 3  # three failed samples in a row
        assert client.get("/readyz").status_code == 503
        state.failures = 0
        body = client.get("/api/state").json()
        assert [g["group"] for g in body["groups"]] == ["matchmaker", "matchmaker-notifier"]
        assert body["status_codes"]["STOP"] == 4
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "matchmaker_monitor_polls_total" in metrics.text
        page = client.get("/")
        assert page.status_code == 200 and "/static/vendor/uPlot.iife.min.js" in page.text
        assert "http://" not in page.text.replace("http://www.w3.org", "")  # nothing from the internet
        assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200
        assert client.get("/static/monitor.js").status_code == 200


def test_vendored_chart_library_is_present_with_its_license():
    vendor = STATIC / "vendor"
    assert (vendor / "uPlot.iife.min.js").stat().st_size > 20_000
    assert "MIT License" in (vendor / "uPlot.LICENSE").read_text()
    assert "uPlot" in (vendor / "README.md").read_text()


def test_text_report_has_a_row_per_partition():
    text = format_report(report())
    assert "GROUP matchmaker  status STOP" in text and "GROUP matchmaker-notifier  status NOTFOUND" in text
    assert text.count("companies ") == 2 and "challenges" in text


def test_alert_rules_are_valid_prometheus_rule_yaml():
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    assert {"MatchmakerConsumerGroupNotOK", "MatchmakerConsumerLagSecondsHigh"} <= names
    for rule in rules:
        assert rule["expr"].strip() and rule["labels"]["severity"] and rule["annotations"]["summary"]
    not_ok = next(r for r in rules if r["alert"] == "MatchmakerConsumerGroupNotOK")
    assert "matchmaker_consumergroup_status" in not_ok["expr"] and not_ok["for"] == "5m"
    assert (
        "kafka_consumergroup_group_lag_seconds"
        in next(r for r in rules if r["alert"] == "MatchmakerConsumerLagSecondsHigh")["expr"]
    )


def test_kubernetes_manifests_parse_and_probe_the_right_paths():
    yaml = pytest.importorskip("yaml")
    docs = [
        d
        for f in sorted((PROJECT_ROOT / "deploy" / "k8s").glob("*.yaml"))
        for d in yaml.safe_load_all(f.read_text())
        if d and "metadata" in d
    ]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "matchmaker-worker") in kinds and ("Deployment", "matchmaker-monitor") in kinds
    assert ("Service", "matchmaker-monitor") in kinds and ("ConfigMap", "matchmaker-config") in kinds
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        container = doc["spec"]["template"]["spec"]["containers"][0]

        def probe(kind: str, container: dict = container) -> str:
            return container[kind].get("httpGet", {}).get("path") or container[kind]["exec"]["command"][-1]

        assert probe("livenessProbe").endswith("/healthz")
        assert probe("readinessProbe").endswith("/readyz")
        assert doc["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    compose = yaml.safe_load((PROJECT_ROOT / "deploy" / "compose" / "docker-compose.yml").read_text())
    assert {"kafka", "worker", "monitor"} <= set(compose["services"])
