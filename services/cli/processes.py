"""`matchmaker` commands in their own processes (as in production), for the demo, the tests and the bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from services.settings import PROJECT_ROOT, Settings


def start_command(args: list[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """`python -m services.cli ARGS` with exactly `env`, its output (stdout and stderr) appended to `log_path`.

    It runs in PROJECT_ROOT, the directory that holds the running `services` package (the checkout, or
    site-packages for an installed wheel), so `-m services.cli` imports this same code and never a
    `services/` folder that happens to be in the caller's directory.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=PROJECT_ROOT,
        )


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment with `settings` (and `extra` variables) on top: what a child should see."""
    return {**os.environ, **settings.to_env(), **extra}


def start_worker(settings: Settings, log_path: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """A `matchmaker worker` with these settings."""
    return start_command(["worker"], log_path, settings_env(settings, **(env or {})))


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
