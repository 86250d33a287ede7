"""A real `matchmaker monitor` listening on every interface (0.0.0.0) on the real broker: the page and
/metrics answer 401 without the operator token and 200 with it; the probes answer without one; and
without a token file it refuses to start."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from services.cli.processes import settings_env, start_command
from services.ops.access import ensure_token, read_token
from services.settings import Settings
from tests.support.broker import free_port
from tests.support.monitor import monitor_process

pytestmark = pytest.mark.integration


def machine_address() -> str:
    """This machine's non-loopback address (the interface a default route uses), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, the kernel only picks a source
            return str(sock.getsockname()[0])
        except OSError:
            return "127.0.0.1"


@pytest.fixture(scope="module")
def exposed_monitor(namespace: Settings, tmp_path_factory) -> Iterator[tuple[str, str]]:
    token_file = tmp_path_factory.mktemp("secrets") / "ops-token"
    ensure_token(token_file)
    with monitor_process(
        namespace,
        "monitor-exposed",
        host=machine_address(),
        MATCHMAKER_MONITOR_HOST="0.0.0.0",
        MATCHMAKER_MONITOR_INTERVAL="0.5",
        MATCHMAKER_OPS_TOKEN_FILE=str(token_file),
    ) as base:
        token = read_token(token_file)
        assert token
        yield base, token


def test_exposed_monitor_answers_only_with_the_operator_token(exposed_monitor, namespace):
    base, token = exposed_monitor
    assert httpx.get(f"{base}/healthz").status_code == 200
    assert httpx.get(f"{base}/readyz").status_code == 200
    for path in ("/metrics", "/", "/api/state"):
        assert httpx.get(f"{base}{path}").status_code == 401, path
        assert httpx.get(f"{base}{path}", headers={"Authorization": "Bearer " + "x" * 43}).status_code == 401, path
        ok = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, path
    metrics = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert f'matchmaker_consumergroup_status{{group="{namespace.app_id}"}}' in metrics  # sampled the real broker


def test_exposed_monitor_without_a_token_file_refuses_to_start(namespace: Settings, tmp_path):
    missing = tmp_path / "not-mounted" / "ops-token"
    env = settings_env(
        namespace,
        MATCHMAKER_MONITOR_HOST="0.0.0.0",
        MATCHMAKER_MONITOR_PORT=str(free_port()),
        MATCHMAKER_OPS_TOKEN_FILE=str(missing),
    )
    log_path = tmp_path / "monitor.log"
    process = start_command(["monitor"], log_path, env)
    assert process.wait(60) == 1
    assert f"{missing} is missing or empty" in log_path.read_text()
