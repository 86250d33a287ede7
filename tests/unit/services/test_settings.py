"""One Settings object: every documented environment variable still sets its value, sections included,
and to_env() hands all of it to a child process unchanged."""

from __future__ import annotations

import re

import pytest

from services.settings import ApiSettings, DeliverySettings, MonitorSettings, Settings
from tests.support import PROJECT_ROOT

NOT_SETTINGS = {
    "MATCHMAKER_KAFKA_HEAP",  # read by the local broker's launcher itself
    "MATCHMAKER_WEBHOOK_SECRET",  # read by `matchmaker subscribe` only: a setting would go to every child process
}


def known_names() -> set[str]:
    """Every environment variable the settings read."""
    names = {"KAFKA_BOOTSTRAP_SERVERS"}
    for model in (Settings, ApiSettings, MonitorSettings, DeliverySettings):
        prefix = model.model_config["env_prefix"]
        names |= {f"{prefix}{name.upper()}" for name in model.model_fields}
    return names


def test_every_variable_in_the_docs_and_deploy_files_is_a_setting():
    files = [PROJECT_ROOT / "README.md", *PROJECT_ROOT.glob("docs/**/*.md"), *PROJECT_ROOT.glob("deploy/**/*.y*ml")]
    documented = set()
    for path in files:
        documented |= set(re.findall(r"\bMATCHMAKER_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    tools = ("MATCHMAKER_TEST_", "MATCHMAKER_BENCH_", "MATCHMAKER_SOAK_")  # the tests' and benchmarks' own knobs
    documented = {n for n in documented if not n.startswith(tools)} - NOT_SETTINGS
    assert documented and documented <= known_names(), documented - known_names()


def test_each_section_reads_its_variables(monkeypatch, tmp_path):
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-0:9092,kafka-1:9092",
        "MATCHMAKER_APP_ID": "mm-prod",
        "MATCHMAKER_TOPIC_CHALLENGES": "ch",
        "MATCHMAKER_HOME": str(tmp_path),
        "MATCHMAKER_API_PORT": "9999",
        "MATCHMAKER_API_TOKENS_FILE": str(tmp_path / "tokens.json"),
        "MATCHMAKER_MONITOR_GROUPS": "billing, audit",
        "MATCHMAKER_MONITOR_INTERVAL": "0.5",
        "MATCHMAKER_NOTIFY_ATTEMPTS": "2",
        "MATCHMAKER_DIGEST_PERIOD": "60",
        "MATCHMAKER_NOTIFIER_WEB_PORT": "7000",
        "MATCHMAKER_INBOX_PORT": "8181",
        "MATCHMAKER_INBOX_HOST": "0.0.0.0",
        "MATCHMAKER_TOPIC_SUBSCRIPTIONS": "subs",
        "MATCHMAKER_TOPIC_INBOX_TOKENS": "tokens",
        "MATCHMAKER_TOPIC_NOTIFICATION_DEAD_LETTERS": "nd",
        "MATCHMAKER_SUBSCRIPTION_KEY_FILE": str(tmp_path / "keys" / "subs.key"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.bootstrap_servers, s.app_id, s.topic_challenges, s.home) == (
        "kafka-0:9092,kafka-1:9092",
        "mm-prod",
        "ch",
        tmp_path,
    )
    assert (s.api.port, s.api.tokens_path(s.home), s.api.host) == (9999, tmp_path / "tokens.json", "127.0.0.1")
    assert (s.monitor.groups, s.monitor.interval, s.monitor.port) == (["billing", "audit"], 0.5, 9308)
    d = s.delivery
    assert (d.notify_attempts, d.digest_period, d.notifier_web_port, d.inbox_port, d.inbox_host) == (
        2,
        60.0,
        7000,
        8181,
        "0.0.0.0",
    )
    assert (d.topic_subscriptions, d.topic_inbox_tokens, d.topic_notification_dead_letters) == ("subs", "tokens", "nd")
    assert (s.notifier_app_id, s.notifier_control_topic) == ("mm-prod-notifier", "mm-prod-notifier-control")
    assert d.subscription_key_path(s.home) == tmp_path / "keys" / "subs.key"
    assert DeliverySettings(subscription_key_file=None).subscription_key_path(s.home) == (
        tmp_path / "security" / "subscriptions.key"
    )


def test_matchmaker_kafka_bootstrap_servers_is_accepted_too(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("MATCHMAKER_KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    assert Settings().bootstrap_servers == "broker:9093" and not Settings().uses_local_broker


def test_to_env_round_trips_every_section(monkeypatch, tmp_path):
    """What tests and the demo do: settings made in code, handed to a child process through its environment."""
    base = Settings()
    made = base.model_copy(
        update={
            "app_id": "t-1",
            "kafka_bootstrap_servers": "b:1",
            "home": tmp_path,
            "torch_threads": 2,
            "api": base.api.model_copy(update={"port": 18080, "idempotency_file": tmp_path / "idem.sqlite3"}),
            "monitor": base.monitor.model_copy(
                update={"groups": ["a", "b,c"], "worker_metrics_urls": ["http://w:1/metrics"]}
            ),
            "delivery": base.delivery.model_copy(
                update={"notify_attempts": 3, "digest_period": 4.5, "inbox_port": 18081}
            ),
        }
    )
    env = made.to_env()
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "b:1" and env["MATCHMAKER_API_PORT"] == "18080"
    assert env["MATCHMAKER_NOTIFY_ATTEMPTS"] == "3" and env["MATCHMAKER_INBOX_PORT"] == "18081"
    for name in list(known_names()):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = Settings()
    assert child == made
    assert child.monitor.groups == ["a", "b,c"] and child.api.idempotency_path(child.home) == tmp_path / "idem.sqlite3"


def test_model_copy_of_one_section_leaves_the_original_alone():
    base = Settings()
    changed = base.model_copy(update={"delivery": base.delivery.model_copy(update={"inbox_port": 1})})
    assert changed.delivery.inbox_port == 1 and base.delivery.inbox_port == 8081


@pytest.mark.parametrize("name", ["MATCHMAKER_API_PORT", "MATCHMAKER_NOTIFY_ATTEMPTS", "MATCHMAKER_MONITOR_WINDOW"])
def test_an_invalid_value_is_refused(monkeypatch, name):
    monkeypatch.setenv(name, "0")
    with pytest.raises(ValueError, match=name.split("_", 2)[-1].lower()):
        Settings()
