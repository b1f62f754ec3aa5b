"""HTTP plumbing: request ids and metrics per request, JSON responses, and the error contract.

Client mistakes get a 4xx that names the field; anything else is a logged 500 with a request id.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.metrics import Metrics, labelled

logger = logging.getLogger("serving")

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# An error body names what is wrong; it never echoes the input back (a 50 MB body -> a few KB).
MAX_ERRORS = 20
_MAX_PART = 40


class FastJSON(JSONResponse):
    """orjson: a few microseconds per answer instead of tens."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


class AsciiJSON(JSONResponse):
    """For error bodies, which may quote client text that is not valid UTF-8."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, default=str).encode("ascii")


class Observe:
    """Pure ASGI middleware: a request id for every request, then the request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._children: dict[tuple[object, ...], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"], state["started"] = request_id, started
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            children = self._children
            labelled(children, self.metrics.requests, route=route, method=method, status=str(status)).inc()
            latency = labelled(children, self.metrics.latency, route=route, method=method)
            latency.observe(time.perf_counter() - started)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _server_error)


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if request.method == "POST" and not _is_json(request.headers.get("content-type")):
        return AsciiJSON({"detail": "the body must be JSON (Content-Type: application/json)"}, 415)
    if any(e.get("type") == "json_invalid" for e in errors):
        position = next(e["loc"][-1] for e in errors if e.get("type") == "json_invalid")
        return AsciiJSON({"detail": f"the body is not valid JSON (at character {position})"}, 400)
    detail = [
        {
            "field": ".".join(_short(p) for p in e["loc"][1:] if "[" not in str(p)) or _short(e["loc"][0]),
            "loc": [_short(part) for part in e["loc"]],
            "msg": _short(e["msg"], 200),
            "type": e["type"],
        }
        for e in errors[:MAX_ERRORS]
    ]
    return AsciiJSON({"detail": detail, "errors": len(errors), "shown": len(detail)}, 422)


def _short(part: object, limit: int = _MAX_PART) -> str:
    """A client-chosen key or message, cut to an excerpt."""
    text = str(part)
    return text if len(text) <= limit else text[:limit] + "..."


async def _server_error(request: Request, exc: Exception) -> Response:
    rid = request_id(request)
    logger.exception("unhandled error in %s %s (request %s)", request.method, request.url.path, rid)
    return AsciiJSON({"detail": "internal server error", "request_id": rid}, 500)
