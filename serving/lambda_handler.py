"""AWS Lambda entry point: the same FastAPI app behind Mangum (API Gateway REST or HTTP API).

Lambda keeps a container warm between invocations, so the app's lifespan is entered once, on the
first event, and stays open: the model loads once, not per request. Set the function's handler
to `serving.lambda_handler.handler`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mangum import Mangum

from serving.app import create_app

_READY_TIMEOUT_SECONDS = 120.0
_adapter: Mangum | None = None
_open_lifespan: list[Any] = []  # held for the container's life: collecting it would shut the app down


async def _wait_until_serving(app: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    runtime = app.state.runtime
    while runtime.ready is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no model was ready within {timeout:.0f} s of a cold start")
        await asyncio.sleep(0.05)


def _cold_start() -> Mangum:
    app = create_app()
    # One loop for the container's life, made current: the lifespan's tasks live on it and Mangum
    # asks for the current loop per event. `get_event_loop()` would fail once anything in the
    # process ran `asyncio.run`, which leaves no current loop behind.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    _open_lifespan.append(lifespan)
    loop.run_until_complete(_wait_until_serving(app, _READY_TIMEOUT_SECONDS))
    return Mangum(app, lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _adapter
    if _adapter is None:
        _adapter = _cold_start()
    response: dict[str, Any] = _adapter(event, context)
    return response
