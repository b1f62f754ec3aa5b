"""Request helpers: the runtime, and what is ready to serve (503 until a model is loaded).

Plain calls, not FastAPI dependencies: resolving a dependency costs more than these do.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from serving.runtime import Ready, Runtime
from titanic_mlops.services import scoring

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid JSON"},
    413: {"description": "more instances than TITANIC_MLOPS_MAX_BATCH_SIZE"},
    415: {"description": "the body is not JSON"},
    503: {"description": "no model is loaded yet"},
}


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


def ready(request: Request) -> tuple[Runtime, Ready]:
    current = runtime(request)
    served = current.ready
    if served is None:
        raise HTTPException(503, "no model is loaded yet", headers={"Retry-After": "5"})
    return current, served


def scored_batch(
    request: Request, passengers: list[Any]
) -> tuple[Runtime, Ready, list[dict[str, Any]], scoring.Scoring]:
    """The request's passengers scored by the serving model: 413 past TITANIC_MLOPS_MAX_BATCH_SIZE,
    503 with no model. One place for `/predict` and `/explain`, so both score the same way."""
    current, served = ready(request)
    limit = current.deployment.settings.max_batch_size
    if len(passengers) > limit:
        raise HTTPException(413, f"instances: {len(passengers)} passengers exceed the limit of {limit}")
    records = [p.model_dump() for p in passengers]
    return current, served, records, scoring.score_records(records, served.model.model, served.online.tickets)


def started(request: Request) -> float | None:
    """When the request reached the app (set by the `Observe` middleware)."""
    value = request.scope.get("state", {}).get("started")
    return None if value is None else float(value)
