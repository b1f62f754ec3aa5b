"""`/health`, `/ready`, `/model` and `/metrics`: what runs, what serves, what it measured."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving import deps, schemas
from serving.http import FastJSON

router = APIRouter()
_MODEL_KEYS = ("name", "version", "run_id", "engine", "loaded_at", "metrics", "lineage", "aliases")


@router.get("/health", response_model=schemas.Status)
async def health() -> Response:
    """The process is alive."""
    return FastJSON({"status": "ok"})


@router.get("/ready", response_model=schemas.Status, responses={503: deps.ERRORS[503]})
async def ready(request: Request) -> Response:
    """200 once a checked model serves; 503 before. "degraded" when the online store is lost.

    Still 200 when degraded (predictions work, with default group sizes): taking every replica
    out of rotation over a shared store would turn a degradation into an outage.
    """
    runtime = deps.runtime(request)
    served, online = runtime.ready, runtime.online_store
    if served is None:
        body = {"status": "loading", "model_version": None, "online_store": online}
        return FastJSON(body, 503, headers={"Retry-After": "5"})
    status = "ready" if online in ("ok", "unchecked") else "degraded"
    return FastJSON({"status": status, "model_version": served.model.version, "online_store": online})


@router.get("/model", response_model=schemas.ModelInfo, responses={503: deps.ERRORS[503]})
async def model(request: Request) -> Response:
    """Name, version, run, metrics, lineage and load time of the model serving now."""
    runtime, served = deps.ready(request)
    refused = runtime.follower.refused
    return FastJSON(
        {
            **{k: served.model.info[k] for k in _MODEL_KEYS},
            "refused": None
            if refused is None
            else {"version": refused.version, "reason": refused.reason, "at": refused.at},
            "experiment": runtime.challenger.info() if runtime.challenger else None,  # a12
        }
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def prometheus(request: Request) -> Response:
    """Prometheus exposition: requests, latency, predictions, model, reloads, monitoring."""
    registry = deps.runtime(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
