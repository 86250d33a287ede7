"""The wheel is complete: installed with pip outside the checkout, `matchmaker kafka up`, `demo` and `down` work.

The wheel is built from a copy of the source tree, installed with `--no-deps` into a fresh virtual
environment in a temporary directory, and everything runs from another temporary directory, so nothing
can come from the checkout: the broker's pom and log4j config and the sample data must be package data.
The heavy dependencies (torch, faust, the model package) are not downloaded again: a `.pth` line in the
new environment points at this interpreter's site-packages, after the wheel's own files.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from services.kafka.local import LocalBroker
from services.settings import PROJECT_ROOT, Settings
from tests.support import ARTIFACTS
from tests.support.broker import free_port

pytestmark = pytest.mark.integration

NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".matchmaker", "artifacts", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"
)


def run(command: list[str], log: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, keeping its output in `log` for the artifacts when the test fails."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as expired:
        output = b"".join(
            part if isinstance(part, bytes) else (part or "").encode() for part in (expired.stdout, expired.stderr)
        )
        log.append(f"$ {' '.join(command)}  (timed out after {timeout:.0f}s)\n{output.decode(errors='replace')}")
        raise
    log.append(f"$ {' '.join(command)}  (exit {result.returncode})\n{result.stdout}{result.stderr}")
    return result


def build_wheel(out: Path, log: list[str]) -> Path:
    """`pip wheel` from a clean copy of the sources: a stale build/ in the checkout cannot leak into it."""
    source = out / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=NOT_SOURCES)
    # With setuptools at hand, build without an isolated environment (nothing to download).
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    result = run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", *isolation, "-w", str(out / "dist")],
        log,
        timeout=300,
    )
    assert result.returncode == 0, "pip wheel failed"
    [wheel] = (out / "dist").glob("six_cities_matchmaker-*.whl")
    return wheel


def make_venv(root: Path, wheel: Path, log: list[str]) -> Path:
    """A fresh environment with the wheel installed, reusing this interpreter's installed dependencies."""
    assert run([sys.executable, "-m", "venv", str(root)], log, timeout=300).returncode == 0, "venv failed"
    python = root / "bin" / "python"
    install = run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], log, timeout=300)
    assert install.returncode == 0, "pip install of the wheel failed"
    # Written after the install so pip never sees (or tries to replace) the checkout's editable install. A
    # plain path line only appends to sys.path; the editable-install .pth files in that directory do not run.
    site_packages = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], log, timeout=60
        ).stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "zz_shared_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    return python


def free_port_pair() -> int:
    """A port whose successor (the KRaft controller port) is free too."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            if port < 65535 and sock.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no free pair of ports")


def test_installed_wheel_runs_broker_and_demo_outside_the_checkout(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(PROJECT_ROOT), "the temporary directory must be outside the checkout"
    log: list[str] = []
    home, workdir = base / "home", base / "cwd"
    workdir.mkdir()
    port = free_port_pair()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MATCHMAKER_") and key not in ("KAFKA_BOOTSTRAP_SERVERS", "PYTHONPATH")
    }
    env.update(MATCHMAKER_HOME=str(home), MATCHMAKER_KAFKA_PORT=str(port), MATCHMAKER_WORKER_WEB_PORT=str(free_port()))
    matchmaker: list[str] = []

    def cli(*args: str, timeout: float) -> subprocess.CompletedProcess:
        return run([*matchmaker, *args], log, timeout=timeout, cwd=workdir, env=env)

    try:
        python = make_venv(base / "venv", build_wheel(base, log), log)
        matchmaker.append(str(python.parent / "matchmaker"))

        where = run(
            [str(python), "-c", "import services, sample_data; print(services.__file__); print(sample_data.DIR)"],
            log,
            timeout=60,
            cwd=workdir,
            env=env,
        )
        assert where.returncode == 0, "the installed packages do not import"
        for line in where.stdout.split():
            assert Path(line).resolve().is_relative_to((base / "venv").resolve()), f"{line} is not from the wheel"

        up = cli("kafka", "up", timeout=300)  # includes fetching the jars with mvn into the fresh home
        assert up.returncode == 0 and f"running at 127.0.0.1:{port}" in up.stdout

        demo = cli("demo", timeout=480)
        assert demo.returncode == 0
        assert re.search(r"^\s+1\. \d\.\d{3}  \S", demo.stdout, re.MULTILINE), "no ranked company printed"
        summary = re.search(r"^(\d+) matches for 18 challenges", demo.stdout, re.MULTILINE)
        assert summary and int(summary.group(1)) > 0

        # The demo leaves a broker it did not start running; `kafka down` stops it.
        assert cli("kafka", "status", timeout=60).returncode == 0
        down = cli("kafka", "down", timeout=90)
        assert down.returncode == 0 and "stopped the local broker" in down.stdout
    except BaseException:
        keep_artifacts(log, home, port)
        raise
    finally:
        LocalBroker(Settings(home=home, kafka_port=port)).down()  # no-op unless a step above failed


def keep_artifacts(log: list[str], home: Path, port: int) -> None:
    out = ARTIFACTS / "logs" / "wheel"
    out.mkdir(parents=True, exist_ok=True)
    (out / "commands.log").write_text("\n".join(log))
    broker_logs = home / "kafka" / f"broker-{port}" / "logs"
    for path in [*broker_logs.glob("*.log"), *(home / "logs").glob("*.log")]:
        shutil.copy(path, out / path.name)
