"""The subscriptions key file: the key ring that seals webhook secrets (services/delivery/sealing.py).

Default `<MATCHMAKER_HOME>/security/subscriptions.key` (MATCHMAKER_SUBSCRIPTION_KEY_FILE), mode 0600:
one Fernet key a line, the first one current; blank lines and `#` comments are ignored. Only the admin
command (`matchmaker subscribe`, which creates the file when it is missing) and the notifier need it.
Every write goes through a temporary file in the same folder, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

from services.delivery.sealing import Sealer, generate_key
from services.errors import ConfigurationError
from services.settings import Settings

log = logging.getLogger("matchmaker.delivery")

HEADER = (
    "# Six Cities Matchmaker: keys that seal webhook secrets on the subscriptions topic.\n"
    "# One Fernet key a line: the first seals, every one unseals. Keep this file 0600; share it only\n"
    "# with the notifier hosts. Rotation: `matchmaker subscription-key rotate` (docs/operators.md).\n"
)


def key_path(settings: Settings) -> Path:
    return settings.delivery.subscription_key_path(settings.home)


def _missing(path: Path) -> ConfigurationError:
    return ConfigurationError(
        f"no subscriptions key at {path}: `matchmaker subscribe` creates one; "
        "notifiers need a copy of that file (MATCHMAKER_SUBSCRIPTION_KEY_FILE)"
    )


def read_keys(path: Path) -> list[bytes]:
    """The keys of the file, current first. ConfigurationError for a missing, unreadable or malformed file."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise _missing(path) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not ASCII text"
        raise ConfigurationError(f"cannot read the subscriptions key at {path}: {reason}") from None
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            Fernet(line)
        except ValueError:
            raise ConfigurationError(f"line {number} of {path} is not a Fernet key") from None
        keys.append(line.encode("ascii"))
    if not keys:
        raise ConfigurationError(f"{path} holds no subscriptions key")
    if path.stat().st_mode & 0o077:
        log.warning("%s can be read by other users: chmod 600 it", path)
    return keys


def load_sealer(path: Path) -> Sealer:
    return Sealer(read_keys(path))


def _write_new(path: Path, text: str) -> str:
    """`text` in a new 0600 file next to `path`; returns its name (the caller links or renames it)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    return tmp


def create_key_file(path: Path) -> bool:
    """Create the file with one new key unless it exists; True when it was created. Never overwrites."""
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = _write_new(path, HEADER + generate_key().decode("ascii") + "\n")
    try:
        os.link(tmp, path)  # atomic and exclusive: two commands creating it at once keep one key
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def add_key(path: Path) -> int:
    """Put a new key in front of the others (rotation); comments and older keys stay. Returns the key count."""
    keys = read_keys(path)
    lines = path.read_text(encoding="ascii").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip() and not line.strip().startswith("#"))
    lines.insert(first, generate_key().decode("ascii") + "\n")
    tmp = _write_new(path, "".join(lines))
    os.replace(tmp, path)
    return len(keys) + 1


class KeyFile:
    """The key ring of one file, read again whenever the file changes: a notifier picks up a rotated
    or repaired key file without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._sealer: Sealer | None = None

    def sealer(self) -> Sealer:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise _missing(self.path) from None
        except OSError as error:
            raise ConfigurationError(f"cannot read the subscriptions key at {self.path}: {error.strerror}") from None
        seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._sealer is None or seen != self._seen:
            self._sealer = load_sealer(self.path)
            self._seen = seen
        return self._sealer
