"""MATCHMAKER_LOG_FORMAT=json: every line a real worker process writes is one JSON object, Faust's too."""

from __future__ import annotations

import json

import pytest

from services.kafka.publisher import Publisher
from tests.support.broker import make_namespace
from tests.support.kafka import challenge, company
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.integration


def test_a_json_format_worker_writes_only_json_lines(broker_settings):
    settings = make_namespace(broker_settings, log_format="json", log_level="INFO")
    worker = WorkerProcess(settings)
    try:
        worker.wait_ready()
        with Publisher.from_settings(settings) as publisher:
            publisher.publish_company(company("co-logs"))
            publisher.publish_challenge(challenge("ch-logs"))
            publisher.send_raw(settings.topic_challenges, b"bad", b'{"not": "closed\n')
        worker.drain()
    finally:
        worker.stop()

    lines = [line for line in worker.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line in {worker.log}: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    loggers = {r["logger"] for r in records}
    assert any(name.split(".")[0] in ("faust", "mode", "aiokafka") for name in loggers), loggers
    assert any(r["level"] == "WARNING" and r["message"].startswith("dead letter") for r in records)
