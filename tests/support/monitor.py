"""A real `matchmaker monitor` process for a test: started, waited for (/readyz), stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from services.cli.processes import settings_env, start_command, stop_process
from services.settings import Settings
from tests.support import ARTIFACTS
from tests.support.broker import free_port
from tests.support.waiting import wait_until


@contextmanager
def monitor_process(settings: Settings, name: str, host: str = "127.0.0.1", **env: str) -> Iterator[str]:
    """The monitor with these settings and MATCHMAKER_MONITOR_* `env`, reached at `host`; yields its base URL."""
    port = free_port()
    log_path = ARTIFACTS / "logs" / f"{settings.app_id}-{name}.log"
    process = start_command(["monitor"], log_path, settings_env(settings, MATCHMAKER_MONITOR_PORT=str(port), **env))
    base = f"http://{host}:{port}"

    def ready() -> bool:
        assert process.poll() is None, log_path.read_text()
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(ready, 60, interval=0.3), "the monitor never became ready: " + log_path.read_text()
        yield base
    finally:
        stop_process(process, timeout=20)
