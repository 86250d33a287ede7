"""Where `matchmaker subscribe` takes a webhook secret from: anywhere but the command line.

A value on argv can be read by every user of the machine (`ps`, /proc/<pid>/cmdline) and stays in the
shell history. The secret comes from a file (--secret-file), standard input (--secret-stdin; a prompt
without echo on a terminal) or MATCHMAKER_WEBHOOK_SECRET (a process's environment is readable only by
its own user); with none of them a strong one is generated, for the command to print once.
"""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from services.delivery.sealing import MAX_SECRET_CHARS, check_secret
from services.errors import InvalidInputError

ENV_VAR = "MATCHMAKER_WEBHOOK_SECRET"
GENERATED = "generated"
_MAX_READ = 4 * MAX_SECRET_CHARS  # room for UTF-8 and surrounding whitespace; more is not a secret

REFUSED = (
    "--secret is refused: a secret on the command line can be read by every user of the machine (ps) and "
    f"stays in the shell history. Use --secret-file PATH, --secret-stdin or {ENV_VAR}, "
    "or give none and a strong secret is generated and printed once"
)


@dataclass(frozen=True)
class SecretInput:
    secret: str
    source: str  # where it came from, for the command's message: a path, "standard input", ENV_VAR, GENERATED

    @property
    def generated(self) -> bool:
        return self.source == GENERATED


def read_secret(secret_file: Path | None, from_stdin: bool, environ: Mapping[str, str], stdin: TextIO) -> SecretInput:
    """The secret from the one source given (surrounding whitespace removed), or a generated one."""
    given = [
        name
        for name, present in (
            ("--secret-file", secret_file is not None),
            ("--secret-stdin", from_stdin),
            (ENV_VAR, ENV_VAR in environ),
        )
        if present
    ]
    if len(given) > 1:
        raise InvalidInputError(f"give the webhook secret one way, not with {' and '.join(given)}")
    if secret_file is not None:
        return SecretInput(check_secret(_read_file(secret_file).strip()), str(secret_file))
    if from_stdin:
        return SecretInput(check_secret(_read_stdin(stdin).strip()), "standard input")
    if ENV_VAR in environ:
        if not environ[ENV_VAR].strip():
            raise InvalidInputError(f"{ENV_VAR} is set but empty: unset it to have a secret generated")
        return SecretInput(check_secret(environ[ENV_VAR].strip()), ENV_VAR)
    return SecretInput(secrets.token_urlsafe(32), GENERATED)


def _read_file(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_READ + 1)
    except FileNotFoundError:
        raise InvalidInputError(f"no secret file {path}") from None
    except OSError as error:
        raise InvalidInputError(f"cannot read the secret file {path}: {error.strerror}") from None
    if len(data) > _MAX_READ:
        raise InvalidInputError(f"{path} is longer than a webhook secret can be ({MAX_SECRET_CHARS} characters)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text") from None


def _read_stdin(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass("webhook secret (not echoed): ")
    text = stdin.read(_MAX_READ + 1)
    if len(text) > _MAX_READ:
        raise InvalidInputError(
            f"standard input is longer than a webhook secret can be ({MAX_SECRET_CHARS} characters)"
        )
    return text
