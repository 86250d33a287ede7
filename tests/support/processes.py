"""Real `matchmaker` processes for tests and benchmarks: started, probed, drained, stopped or killed."""

from __future__ import annotations

import time
import urllib.request

from services.cli.processes import start_worker, stop_process
from services.ops.progress import wait_until_drained
from services.settings import Settings
from tests.support import ARTIFACTS


class WorkerProcess:
    """A real `matchmaker worker` process with the given settings, logging to artifacts/logs/."""

    def __init__(self, settings: Settings, name: str = "worker") -> None:
        self.settings = settings
        self.log = ARTIFACTS / "logs" / f"{settings.app_id}-{name}.log"
        self.process = start_worker(settings, self.log)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the worker's /readyz says it holds partitions and has recovered its tables."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.settings.worker_web_port}/readyz"
        while time.monotonic() < deadline:
            assert self.alive, f"worker exited; see {self.log}"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"worker not ready after {timeout}s; see {self.log}")

    def drain(self, timeout: float = 180.0) -> None:
        wait_until_drained(self.settings, timeout=timeout, alive=lambda: self.alive)

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
