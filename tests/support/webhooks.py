"""Real HTTP webhook receivers on 127.0.0.1 (http.server in a thread) with scripted behaviour.

Their URLs are plain http to loopback: a notifier or sender delivers to them only with the development
setting MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP (`allow_loopback`); tests/support/notifier.py sets it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int | None  # what the receiver answered; None = it never answered
    at: float

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Reply:
    """An answer with headers (a redirect's Location) and optionally an endless body (sent until the
    client hangs up, at most ENDLESS_CAP bytes)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    endless: bool = False


ENDLESS_CAP = 1 << 30
Behaviour = Callable[[int], "int | str | Reply"]


class Receiver:
    """`behaviour(n)` for the n-th request (1-based): an HTTP status, a Reply, or "hang" (never answers)."""

    def __init__(self, behaviour: Behaviour = lambda n: 200) -> None:
        self.behaviour = behaviour
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    number = len(receiver.requests) + 1
                    action = receiver.behaviour(number)
                    reply = action if isinstance(action, Reply) else None if action == "hang" else Reply(int(action))
                    record = Received(
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        None if reply is None else reply.status,
                        time.monotonic(),
                    )
                    receiver.requests.append(record)
                if reply is None:
                    receiver._release.wait(120)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(ENDLESS_CAP if reply.endless else 0))
                self.end_headers()
                if reply.endless:
                    self._flood()

            def _flood(self) -> None:
                chunk, sent = b"x" * 65536, 0
                try:
                    while sent < ENDLESS_CAP:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:  # the client hung up: what the test expects
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def delivered(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.ok]

    def stats(self) -> dict[str, int]:
        with self._lock:
            ok = Counter(r.key for r in self.requests if r.ok)
            return {
                "requests": len(self.requests),
                "delivered": sum(ok.values()),
                "failed_attempts": sum(1 for r in self.requests if not r.ok),
                "duplicates": sum(n - 1 for n in ok.values()),
            }

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
