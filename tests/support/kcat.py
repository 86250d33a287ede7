"""kcat as a non-Python platform runs it: `kcat -F <properties>` with the file `matchmaker access grant` prints.

SCRAM against Kafka 4 needs librdkafka 2.6.1 or newer (older ones send a wrong client-final nonce,
which Kafka 4 rejects: confluentinc/librdkafka#4895). Debian bookworm's kcat links librdkafka 2.0.2, so
when the system's is older, kcat runs with the librdkafka that the `confluent-kafka` wheel (a test
dependency) carries, through LD_LIBRARY_PATH; kcat itself is unchanged.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from services.settings import PROJECT_ROOT

MIN_LIBRDKAFKA = (2, 6, 1)


def available() -> bool:
    return shutil.which("kcat") is not None


@functools.cache
def environment() -> dict[str, str]:
    """The environment to run kcat in: this one, plus a recent librdkafka when the system's is too old."""
    env = dict(os.environ)
    if _system_librdkafka() >= MIN_LIBRDKAFKA:
        return env
    spec = importlib.util.find_spec("confluent_kafka")
    if spec is None or spec.origin is None:
        raise RuntimeError("kcat's librdkafka is older than 2.6.1 and the confluent-kafka wheel is not installed")
    bundled = sorted((Path(spec.origin).parent.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    if not bundled:
        raise RuntimeError("the confluent-kafka wheel carries no librdkafka")
    folder = Path(tempfile.mkdtemp(prefix="matchmaker-librdkafka-"))
    (folder / "librdkafka.so.1").symlink_to(bundled[0])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(folder), env.get("LD_LIBRARY_PATH")]))
    return env


def _system_librdkafka() -> tuple[int, ...]:
    output = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    found = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", output)
    return tuple(int(part) for part in found.groups()) if found else (0,)


def publish(properties: Path, topic: str, lines: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    """`kcat -F properties -P -t topic -K '|'`: each line `key|value`; acks from all in-sync replicas."""
    return subprocess.run(
        ["kcat", "-F", str(properties), "-P", "-t", topic, "-K", "|", "-X", "acks=all"],
        input="".join(line + "\n" for line in lines),
        text=True,
        capture_output=True,
        env=environment(),
        timeout=timeout,
    )


def delivered(result: subprocess.CompletedProcess) -> bool:
    """kcat exits 0 even when the broker refused a message; its stderr says so."""
    said = result.stderr.lower()
    return result.returncode == 0 and "failed" not in said and "error" not in said


def run_cli(settings, *args: str) -> subprocess.CompletedProcess:
    """`matchmaker ARGS` in its own process with these settings, as the operator runs it."""
    from services.cli.processes import settings_env

    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        env=settings_env(settings),
        cwd=PROJECT_ROOT,
        timeout=60,
    )


def grant(settings, folder: Path, *who: str, as_json: bool = False) -> Path:
    """`matchmaker access grant <who>` as the operator runs it; its output (the client configuration) saved."""
    result = run_cli(settings, "access", "grant", *who, *(["--json"] if as_json else []))
    assert result.returncode == 0, result.stderr
    path = folder / ("-".join(w.strip("-").lower() for w in who) + (".json" if as_json else ".properties"))
    path.write_text(result.stdout)
    return path
