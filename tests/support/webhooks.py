"""Real HTTP webhook receivers on 127.0.0.1 (http.server in a thread) with scripted behaviour."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
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


class Receiver:
    """`behaviour(n)` for the n-th request (1-based): an HTTP status, or "hang" (never answers)."""

    def __init__(self, behaviour: Callable[[int], int | str] = lambda n: 200) -> None:
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
                    record = Received(
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        None if action == "hang" else int(action),
                        time.monotonic(),
                    )
                    receiver.requests.append(record)
                if action == "hang":
                    receiver._release.wait(120)
                    return
                self.send_response(int(action))
                self.send_header("Content-Length", "0")
                self.end_headers()

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
