"""Limits at the edge: what one client may send, enforced while reading, before anything parses.

`BodyLimit` refuses a body over its path's limit from its Content-Length at once (413, nothing
read), or, for a chunked body, as soon as the bytes read pass it; a body that stops arriving
for `body_read_timeout_seconds` is answered 408. `server_options` is what uvicorn enforces
below the app: the h11 parser (httptools has no header limit) with a cap on the header block,
a header read timeout (`header_protocol`: uvicorn has none, so a client that sends half a request
line or nothing at all would hold its connection for ever), the keep-alive timeout and the cap on
concurrent connections.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from serving.http import AsciiJSON
from titanic_mlops.config.settings import Settings


class _Refused(HTTPException):
    """An HTTPException, so FastAPI's body parsing re-raises it instead of answering 400."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail, headers={"Connection": "close"})


class BodyLimit:
    """Pure ASGI middleware: a per-path body-size limit and a body read timeout."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        self.limits = dict(settings.body_limits)
        self.timeout = settings.body_read_timeout_seconds

    def limit(self, path: str) -> int:
        return self.limits.get(path.rstrip("/") or "/", self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(
                scope, send, 413, f"the body is {declared} bytes; this endpoint takes {limit} at most"
            )
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise _Refused(408, f"the body did not arrive within {self.timeout:g} s") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _Refused(413, f"the body passed {limit} bytes, this endpoint's limit")
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except _Refused as refused:
            if started:
                raise
            await _refuse(scope, send, refused.status_code, refused.detail)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
    """Answer and close: the rest of the body is never read."""
    response = AsciiJSON({"detail": detail}, status, headers={"Connection": "close"})
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def header_protocol(timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request head is not in within `timeout`."""

    class HeaderTimeout(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._arm()
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._head_timer is None and self.conn.their_state is h11.IDLE:
                self._head_timer = self.loop.call_later(timeout, self._late)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _late(self) -> None:
            self._head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeout


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn keyword arguments that enforce the limits below the app."""
    return {
        "http": header_protocol(settings.header_read_timeout_seconds),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.keepalive_timeout_seconds,
        "limit_concurrency": settings.max_connections,
    }
