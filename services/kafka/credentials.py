"""SCRAM passwords of the local cluster's own principals, kept under `$MATCHMAKER_HOME/security/kafka`.

One file per principal (`<name>.password`, mode 0600, in a 0700 folder): the operator's (what the CLI
uses), the broker's (inter-broker) and each service's. City and platform credentials are printed once by
`matchmaker access grant` and not kept here: the broker stores only their salted SCRAM hashes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.errors import ConfigurationError

LOCAL_PRINCIPALS = ("broker", "operator", "worker", "notifier", "inbox", "api", "monitor")


def store_dir(home: Path) -> Path:
    return home / "security" / "kafka"


def new_password() -> str:
    """256 bits, URL-safe (no character that a properties file or a JAAS line would need to escape)."""
    return secrets.token_urlsafe(32)


def read(home: Path, principal: str) -> str | None:
    try:
        return (store_dir(home) / f"{principal}.password").read_text().strip() or None
    except FileNotFoundError:
        return None


def write(home: Path, principal: str, password: str) -> None:
    folder = store_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    write_private(folder / f"{principal}.password", password + "\n")


def write_private(path: Path, data: str | bytes) -> None:
    """Written 0600 from the start, never readable by others even for a moment."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data.encode() if isinstance(data, str) else data)


def ensure(home: Path, principal: str) -> str:
    """The principal's stored password, created when missing."""
    password = read(home, principal)
    if password is None:
        password = new_password()
        write(home, principal, password)
    return password


def require(home: Path, principal: str) -> str:
    password = read(home, principal)
    if password is None:
        raise ConfigurationError(
            f"no Kafka password for principal {principal!r}: set MATCHMAKER_KAFKA_PASSWORD_FILE (or "
            f"MATCHMAKER_KAFKA_PASSWORD), or run `matchmaker kafka up` for the local cluster "
            f"(expected in {store_dir(home)})"
        )
    return password
