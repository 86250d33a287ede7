"""Request body limits, enforced before FastAPI reads a body: size, media type, and bodies that are not JSON text."""

from __future__ import annotations

import json
from typing import Any


class BodyLimit:
    """Pure ASGI middleware: 413 when Content-Length or the bytes actually received exceed the limit;
    415 when a non-empty body is declared as something other than JSON."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    @staticmethod
    async def _refuse(send: Any, status: int, detail: str | list) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                    return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False
        content_type = next((v for n, v in scope.get("headers", []) if n == b"content-type"), b"").decode("latin-1")
        media = content_type.split(";")[0].strip().lower()
        if body and media and media != "application/json" and not media.endswith("+json"):
            await self._refuse(send, 415, f"the body must be JSON (Content-Type: application/json), not {media}")
            return
        if body:
            problem = _unparseable(body)
            if problem:  # FastAPI would answer 400 for these; keep every body error a 422 with a location
                await self._refuse(
                    send, 422, [{"type": "json_invalid", "loc": ["body"], "msg": problem, "input": None}]
                )
                return

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unparseable(body: bytes) -> str | None:
    """Why a body is not even JSON text FastAPI can report on (JSON syntax errors are left to FastAPI)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the body is not UTF-8 text (byte {error.start} is invalid)"
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return None
    except (RecursionError, ValueError) as error:
        return f"the body cannot be parsed as JSON ({type(error).__name__})"
    return None


__all__ = ["BodyLimit"]
