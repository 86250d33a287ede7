"""The monitor service with a real worker group: Prometheus names, probes, the live page in a real
headless browser (Debian's chromium + chromedriver through selenium), and the worker group's lag
cross-checked against Kafka's consumer-groups tool.

The page test saves a screenshot to artifacts/monitor.png.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import httpx
import pytest

from services.kafka import clients
from services.kafka.publisher import publish_file
from services.settings import Settings
from tests.support import ARTIFACTS
from tests.support.lag import Traffic, create_topic, kafka_tool_describe, lag_cli
from tests.support.monitor import monitor_process

pytestmark = pytest.mark.integration

SAMPLE = Settings().sample_data_dir
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def published(namespace, worker):
    """Sample data through a real worker, plus two broken messages that end up as dead letters."""
    from services.kafka.publisher import Publisher

    with Publisher.from_settings(namespace) as publisher:
        publish_file(publisher, "companies", SAMPLE / "companies.jsonl")
        publish_file(publisher, "challenges", SAMPLE / "challenges.jsonl")
    producer = clients.producer(namespace, client_id="matchmaker-test")
    producer.send(namespace.topic_companies, key=b"co-broken-1", value=b"{not json")
    producer.send(
        namespace.topic_companies, key=b"co-broken-2", value=json.dumps({"company_id": "co-broken-2"}).encode()
    )
    producer.flush()
    producer.close()
    worker.drain()
    return namespace


@pytest.fixture(scope="module")
def monitor(published, worker):
    page_group = f"{published.app_id}-page"
    with monitor_process(
        published,
        "monitor",
        MATCHMAKER_MONITOR_INTERVAL="0.5",
        MATCHMAKER_MONITOR_WINDOW="6",
        MATCHMAKER_MONITOR_HISTORY_SECONDS="3600",
        MATCHMAKER_MONITOR_GROUPS=page_group,
        MATCHMAKER_MONITOR_WORKER_METRICS_URLS=f"http://127.0.0.1:{published.worker_web_port}/metrics",
    ) as base:
        yield base, page_group


def test_probes_and_prometheus_names(monitor, published):
    base, page_group = monitor
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").json()["ready"] is True
    text = httpx.get(f"{base}/metrics").text
    group = published.app_id
    for name in (
        "kafka_consumergroup_group_lag",
        "kafka_consumergroup_group_lag_seconds",
        "kafka_consumergroup_group_offset",
    ):
        assert f'{name}{{group="{group}",partition="0",topic="{published.topic_companies}"}} ' in text, name
    for name in (
        "kafka_consumergroup_group_max_lag",
        "kafka_consumergroup_group_sum_lag",
        "matchmaker_consumergroup_members",
    ):
        assert f'{name}{{group="{group}"}} ' in text, name
    assert f'matchmaker_consumergroup_status{{group="{group}"}} 0.0' in text  # drained worker: OK
    assert f'matchmaker_consumergroup_status{{group="{group}-notifier"}} -1.0' in text  # no notifier here: NOTFOUND
    assert f'kafka_consumergroup_group_sum_lag{{group="{group}"}} 0.0' in text
    state = httpx.get(f"{base}/api/state").json()
    assert state["dead_letters"]["count"] == 2
    assert state["matches"]["count"] > 0 and state["matches"]["latest"]
    assert state["pipeline"]["workers_up"] == 1 and state["pipeline"]["matches_emitted"] > 0


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(
            "chromium and chromedriver are needed (make test installs them: apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1500,1250",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # the page is still rendering
            last = error
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


@pytest.mark.timeout(300)
def test_live_page_in_a_real_browser(monitor, published, browser):
    from selenium.webdriver.common.by import By

    base, page_group = monitor
    topic = f"{page_group}-events"
    create_topic(published, topic, 2)
    traffic = Traffic(published, topic, page_group, burst=6, every=0.5, batch=4, pause=0.1, partitions=2).start()
    try:
        browser.get(base + "/?refresh_ms=1000")

        def card(group: str):
            return browser.find_element(By.CSS_SELECTOR, f'section.group[data-group="{group}"]')

        def badge(group: str) -> str:
            return card(group).find_element(By.CSS_SELECTOR, '[data-role="status"]').text

        def points(group: str) -> int:
            return int(card(group).find_element(By.CSS_SELECTOR, '[data-role="chart"]').get_attribute("data-points"))

        wait_until(
            lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "1",
            30,
            "the page to load",
        )
        assert "broker connected" in browser.find_element(By.ID, "broker").text
        wait_until(lambda: badge(published.app_id) == "OK", 30, "the worker group to be OK")
        assert badge(f"{published.app_id}-notifier") == "NOTFOUND"
        wait_until(lambda: badge(page_group) == "OK" and points(page_group) >= 20, 60, "the page group's chart to fill")
        # the chart is drawn by uPlot from the live samples of the real group: a canvas with the partitions' series
        chart = card(page_group).find_element(By.CSS_SELECTOR, '[data-role="chart"]')
        assert chart.find_elements(By.TAG_NAME, "canvas")
        legend = chart.text
        assert f"{topic}[0]" in legend and f"{topic}[1]" in legend
        assert points(published.app_id) > 0

        assert browser.find_element(By.ID, "dead-count").text == "2"
        dead = browser.find_element(By.ID, "dead-letters").text
        assert published.topic_companies in dead and dead.count("\n") >= 1
        assert len(browser.find_elements(By.CSS_SELECTOR, "#matches tbody tr")) >= 5
        assert "ch-" in browser.find_element(By.ID, "matches").text
        assert "matches emitted" in browser.find_element(By.ID, "pipeline").text
        throughput = browser.find_element(By.ID, "throughput").text
        assert page_group in throughput and topic in throughput

        traffic.stop_consuming()  # the producer goes on: the status shown must change
        stopped = wait_until(
            lambda: badge(page_group) in ("STOP", "STALL") and badge(page_group), 45, "STOP/STALL on the page"
        )
        assert stopped in ("STOP", "STALL")
        time.sleep(4)  # a few more samples of the rising lag for the screenshot
        rows = card(page_group).find_elements(By.CSS_SELECTOR, 'tbody[data-role="partitions"] tr')
        assert len(rows) == 2
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.execute_script(
            f"document.querySelector('section.group[data-group=\"{page_group}\"] details').open = true"
        )
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1500, min(4000, height + 140))  # the whole page in one picture
        time.sleep(1.5)
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(ARTIFACTS / "monitor.png"))
    finally:
        traffic.stop()
    assert not traffic.errors


def test_worker_group_lag_equals_kafka_tool(published, worker, monitor):
    """The real Faust worker group, stopped with a backlog: our figures are the tool's, partition by partition."""
    worker.stop()
    producer = clients.producer(published, client_id="matchmaker-test")
    for i in range(7):
        producer.send(published.topic_companies, key=f"co-late-{i}".encode(), value=b'{"late": true}')
    for i in range(3):
        producer.send(published.topic_challenges, key=f"ch-late-{i}".encode(), value=b'{"late": true}')
    producer.flush()
    producer.close()

    ours = lag_cli(published, "--samples", "2", "--interval", "0.2")
    tool = kafka_tool_describe(published, published.app_id)
    report = next(g for g in ours["groups"] if g["group"] == published.app_id)
    rows = {(p["topic"], p["partition"]): p for p in report["partitions"]}
    print(f"\nworker group {published.app_id}: ours committed/end/lag vs kafka-consumer-groups")
    for key in sorted(tool):
        print(
            f"  {key}: ours {rows[key]['committed']}/{rows[key]['end']}/{rows[key]['lag']}  "
            f"tool {tool[key]['committed']}/{tool[key]['end']}/{tool[key]['lag']}"
        )
    assert tool, "the tool printed no partitions"
    for key, expected in tool.items():
        assert {k: rows[key][k] for k in ("committed", "end", "lag")} == expected, key
    assert {key for key, row in rows.items() if row["committed"] is not None} == set(tool)
    assert report["sum_lag"] == 10 == sum(row["lag"] for row in tool.values())
    assert {t for (t, _), row in tool.items() if row["lag"]} == {published.topic_companies, published.topic_challenges}
    assert report["members"] == 0 and report["status"] in ("STOP", "STALL")
