"""Who may read an operator surface: the monitor and the worker's and notifier's web servers.

They show dead-letter keys, matches, metrics and (Faust's own /table and /router views) table contents.
Bound to loopback, only this machine reaches them: they stay open, so a browser on the machine keeps
working. Bound to any other interface, every path except `/healthz` and `/readyz` (probes carry no
credentials) needs `Authorization: Bearer <operator token>`. The token is one file (`ops_token_path`:
MATCHMAKER_OPS_TOKEN_FILE, default <MATCHMAKER_HOME>/security/ops-token) that `matchmaker ops-token`
creates; a process that would listen off loopback without it refuses to start rather than serve an
open port. Only the token's SHA-256 is kept in memory, compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.bearer import hash_token
from services.errors import ConfigurationError
from services.settings import Settings

if TYPE_CHECKING:
    import faust

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
MIN_TOKEN_LENGTH = 16  # a guessable token protects nothing; `matchmaker ops-token` writes 43 characters


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; any other name or address (0.0.0.0, "") counts as exposed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: Path) -> str | None:
    """The token in `path` (surrounding whitespace dropped: secrets often end with a newline); None if absent."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def ensure_token(path: Path, rotate: bool = False) -> bool:
    """Create the token file (0600, in a 0700 directory) unless it exists; `rotate` replaces it. True if written."""
    if path.exists() and not rotate:
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    os.replace(staging, path)  # never a half-written token, and a reader sees the old one or the new one
    return True


def client_headers(settings: Settings) -> dict[str, str]:
    """The Authorization header for calling another operator surface (the monitor scraping workers), if a token exists."""
    try:
        token = read_token(settings.ops_token_path)
    except OSError:  # unreadable: the call goes without it, and a guarded surface answers 401
        return {}
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True)
class Denial:
    detail: str
    challenge: str  # the WWW-Authenticate header


@dataclass(frozen=True)
class OpsAccess:
    """The rule of one listening surface; `token_sha256` None means loopback: open."""

    token_sha256: str | None = None

    @classmethod
    def for_host(cls, settings: Settings, host: str, surface: str) -> OpsAccess:
        """The rule for a surface about to listen on `host`; ConfigurationError if it would be exposed without a token."""
        if is_loopback(host):
            return cls()
        path = settings.ops_token_path
        try:
            token = read_token(path)
        except OSError as error:  # a directory, or a mounted secret this user may not read
            raise ConfigurationError(f"cannot read the operator token {path}: {error.strerror or error}") from None
        if token is None:
            raise ConfigurationError(
                f"the {surface} would listen on {host or 'all interfaces'} (not loopback) without the operator token: "
                f"{path} is missing or empty. Create it with `matchmaker ops-token`, or point "
                "MATCHMAKER_OPS_TOKEN_FILE at a mounted secret"
            )
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigurationError(
                f"the operator token in {path} is shorter than {MIN_TOKEN_LENGTH} characters; "
                "`matchmaker ops-token --rotate` writes a random one"
            )
        return cls(hash_token(token))

    @property
    def open(self) -> bool:
        return self.token_sha256 is None

    def check(self, path: str, authorization: str | None) -> Denial | None:
        """None when the request may proceed, else why not (answered 401)."""
        if self.token_sha256 is None or path in OPEN_PATHS:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Denial("operator token needed (Authorization: Bearer <token>)", "Bearer")
        # hashed first: equal lengths for compare_digest, and any characters (it refuses non-ASCII str)
        if not hmac.compare_digest(hash_token(token.strip()), self.token_sha256):
            return Denial("invalid operator token", 'Bearer error="invalid_token"')
        return None


def guard_faust_web(app: faust.App, settings: Settings, host: str, surface: str) -> OpsAccess:
    """Make a Faust app's web server listen on `host` only, behind the operator rule for that host.

    Faust binds its server to `web_bind` (all interfaces by default; `web_host` only names the server in
    URLs), so without this a worker set to 127.0.0.1 still listened on every interface. The check sits in
    front of every view: ours and Faust's own (/table and /router show table contents).
    """
    access = OpsAccess.for_host(settings, host, surface)
    app.conf.web_bind = host
    if access.open:
        return access
    from aiohttp import web
    from faust.web.drivers.aiohttp import Web

    server = app.web
    if not isinstance(server, Web):
        raise ConfigurationError(f"the operator token check needs Faust's aiohttp web driver, not {type(server)}")

    @web.middleware
    async def operator_only(request: web.Request, handler: Any) -> web.StreamResponse:
        denial = access.check(request.path, request.headers.get("Authorization"))
        if denial is not None:
            return web.json_response(
                {"detail": denial.detail}, status=401, headers={"WWW-Authenticate": denial.challenge}
            )
        return await handler(request)

    server.web_app.middlewares.append(operator_only)  # allowed until the server starts (aiohttp freezes it then)
    return access


__all__ = ["OPEN_PATHS", "OpsAccess", "client_headers", "ensure_token", "guard_faust_web", "is_loopback"]
