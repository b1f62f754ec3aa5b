"""The endpoints: validation is FastAPI's, scoring and logging the core's; this only wires them."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving import schemas
from serving.http import FastJSON, labelled, request_id
from serving.metrics import Metrics
from titanic_mlops import feature_store, prediction, request_features
from titanic_mlops.prediction_log import FeedbackTargetMissing, LoggedPrediction
from titanic_mlops.serving_model import ServingModel
from titanic_mlops.settings import Settings

if TYPE_CHECKING:  # app.py imports this module; at run time only the annotations name Runtime
    from serving.app import Runtime

_bearer = HTTPBearer(auto_error=False, description="TITANIC_MLOPS_ADMIN_TOKEN")


def _state(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _serving(request: Request) -> tuple[Runtime, ServingModel]:
    """A plain call, not a FastAPI dependency: resolving one costs more than this does."""
    runtime = _state(request)
    served = runtime.holder.current
    if served is None or runtime.store is None or runtime.tickets is None:
        raise HTTPException(503, "no model is loaded yet", headers={"Retry-After": "5"})
    return runtime, served


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid JSON"},
    413: {"description": "more instances than TITANIC_MLOPS_MAX_BATCH_SIZE"},
    415: {"description": "the body is not JSON"},
    503: {"description": "no model is loaded yet"},
}


def install_routes(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    limit = settings.max_batch_size
    children: dict[tuple[object, ...], Any] = {}  # Prometheus children, see `labelled`

    @app.post("/predict", response_model=schemas.PredictResponse, responses=_ERRORS)
    async def predict(body: schemas.PredictRequest, request: Request) -> Response:
        """Score passengers given in Kaggle columns; population features come from the store."""
        runtime, served = _serving(request)
        if len(body.instances) > limit:
            raise HTTPException(
                413, f"instances: {len(body.instances)} passengers exceed the limit of {limit}"
            )
        records = [p.model_dump() for p in body.instances]
        assert runtime.tickets is not None
        scored = request_features.score_records(records, served.model, runtime.tickets)
        for feature, count in request_features.missing_counts(scored.vectors).items():
            labelled(children, metrics.missing, feature=feature).inc(count)
        answer = _Answer(served, scored)
        _log(request, runtime, children, answer, records, scored.vectors)
        return FastJSON(answer.body())

    @app.get(
        "/passengers/{passenger_id}/prediction",
        response_model=schemas.PassengerPrediction,
        responses={
            404: {"description": "the online store does not know this PassengerId"},
            503: {"description": "no model is loaded yet, or the online store is unavailable"},
        },
    )
    async def passenger(
        passenger_id: Annotated[int, Path(ge=1, le=schemas.MAX_ID)], request: Request
    ) -> Response:
        """Score a known passenger from the Feast online store, by PassengerId."""
        runtime, served = _serving(request)
        try:
            stored = feature_store.online_passenger_features(runtime.store, [passenger_id])
        except feature_store.OnlineStoreUnavailable as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
        try:
            feature_store.require_known(stored, [passenger_id])
        except feature_store.UnknownPassenger as exc:
            raise HTTPException(404, f"passenger_id: {passenger_id} is not in the online store") from exc
        scored = prediction.score_features([passenger_id], stored, served.model)
        vector = {str(k): v for k, v in scored.model_inputs.iloc[0].items()}
        answer = _Answer(served, scored)
        _log(request, runtime, children, answer, [{"PassengerId": passenger_id}], [vector])
        clean = {k: None if isinstance(v, float) and v != v else v for k, v in vector.items()}
        return FastJSON(
            {
                "model_name": served.model.ref.name,
                "model_version": served.version,
                **answer.body()["predictions"][0],
                "features": clean,
            }
        )

    @app.post(
        "/feedback",
        response_model=schemas.FeedbackResponse,
        responses={404: {"description": "no logged prediction matches"}, **_ERRORS},
    )
    async def feedback(
        body: schemas.FeedbackByPrediction | schemas.FeedbackByPassenger | schemas.FeedbackBatch,
        request: Request,
    ) -> Response:
        """Ground truth for earlier predictions (one object, or a list from a simulator)."""
        items = body if isinstance(body, list) else [body]
        if len(items) > limit:
            raise HTTPException(413, f"body: {len(items)} items exceed the limit of {limit}")
        log = _state(request).log
        found, missing = [], []
        for position, item in enumerate(items):
            try:
                if isinstance(item, schemas.FeedbackByPrediction):
                    found.append(log.add_feedback(item.survived, prediction_id=item.prediction_id))
                else:
                    found.append(log.add_feedback(item.survived, passenger_id=item.passenger_id))
            except FeedbackTargetMissing:
                missing.append(position)
        if not found:
            first = items[0]
            target = (
                first.prediction_id if isinstance(first, schemas.FeedbackByPrediction) else first.passenger_id
            )
            what = "prediction_id" if isinstance(first, schemas.FeedbackByPrediction) else "passenger_id"
            raise HTTPException(404, f"{what}: no logged prediction for {target}")
        return FastJSON({"accepted": len(found), "prediction_ids": found, "missing": missing})

    @app.get("/health", response_model=schemas.Status)
    async def health() -> Response:
        """The process is alive."""
        return FastJSON({"status": "ok"})

    @app.get("/ready", response_model=schemas.Status, responses={503: _ERRORS[503]})
    async def ready(request: Request) -> Response:
        """200 once a checked model serves; 503 before."""
        runtime = _state(request)
        served = runtime.holder.current
        if served is None or runtime.store is None:
            return FastJSON({"status": "loading", "model_version": None}, 503, headers={"Retry-After": "5"})
        return FastJSON({"status": "ready", "model_version": served.version})

    @app.get("/model", response_model=schemas.ModelInfo, responses={503: _ERRORS[503]})
    async def model(request: Request) -> Response:
        """Name, version, run, metrics, lineage and load time of the model serving now."""
        runtime, served = _serving(request)
        info = served.info
        refused = runtime.holder.refused
        return FastJSON(
            {
                **{
                    k: info[k]
                    for k in (
                        "name",
                        "version",
                        "run_id",
                        "engine",
                        "loaded_at",
                        "metrics",
                        "lineage",
                        "aliases",
                    )
                },
                "refused": None
                if refused is None
                else {"version": refused.version, "reason": refused.reason, "at": refused.at},
            }
        )

    @app.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    async def prometheus() -> Response:
        """Prometheus exposition: requests, latency, predictions, model, reloads, monitoring."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/admin/reload",
        response_model=schemas.ReloadResponse,
        responses={
            401: {"description": "no bearer token"},
            403: {"description": "wrong token, or none configured"},
            503: {"description": "the tracking server does not answer (the current model serves on)"},
        },
    )
    async def reload(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Response:
        """Check the alias now (a refused version is retried); needs the admin bearer token."""
        expected = settings.admin_token.get_secret_value() if settings.admin_token else None
        if expected is None:
            raise HTTPException(403, "admin reload is disabled: TITANIC_MLOPS_ADMIN_TOKEN is not set")
        if credentials is None:
            raise HTTPException(
                401, "Authorization: Bearer <token> is required", headers={"WWW-Authenticate": "Bearer"}
            )
        if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
            raise HTTPException(403, "wrong admin token")
        runtime = _state(request)
        result = await asyncio.to_thread(runtime.reload, True)
        served, refused = runtime.holder.current, runtime.holder.refused
        if result == "error":
            still = f"still serving version {served.version}" if served else "no model is loaded"
            raise HTTPException(
                503, f"the tracking server does not answer; {still}", headers={"Retry-After": "5"}
            )
        reason = refused.reason if result == "refused" and refused else None
        return FastJSON(
            {"result": result, "model_version": served.version if served else None, "reason": reason}
        )


class _Answer:
    """One scoring's results as plain lists (read once), and the ids the log gave them."""

    def __init__(
        self, served: ServingModel, scored: prediction.Scored | request_features.RequestScores
    ) -> None:
        self.served = served
        self.passenger_ids = scored.passenger_ids
        self.probability: list[float] = scored.probability.tolist()
        self.survived: list[int] = scored.survived.tolist()
        self.ids: list[int] = []

    def body(self) -> dict[str, Any]:
        return {
            "model_name": self.served.model.ref.name,
            "model_version": self.served.version,
            "predictions": [
                {"passenger_id": pid, "survived": s, "probability": p, "prediction_id": i}
                for pid, s, p, i in zip(
                    self.passenger_ids, self.survived, self.probability, self.ids, strict=True
                )
            ],
        }


def _log(
    request: Request,
    runtime: Runtime,
    children: dict[tuple[object, ...], Any],
    answer: _Answer,
    records: list[dict[str, Any]],
    vectors: list[dict[str, Any]],
) -> None:
    """Append one row per prediction before answering; the ids let feedback point back.

    On the event loop, not in a worker thread: the hop would cost more (~0.3 ms measured) than
    the ~0.1 ms write; the SQLite log checkpoints in its own thread, off this path.
    """
    started = request.scope.get("state", {}).get("started", time.perf_counter())
    latency_ms = (time.perf_counter() - started) * 1000
    ref, rid = answer.served.model.ref, request_id(request)
    rows = [
        LoggedPrediction(rid, ref.name, ref.version, pid, record, vector, p, s, latency_ms)
        for pid, record, vector, p, s in zip(
            answer.passenger_ids, records, vectors, answer.probability, answer.survived, strict=True
        )
    ]
    answer.ids = runtime.log.append(rows)
    metrics = runtime.metrics
    metrics.log_rows.inc(len(answer.ids))
    survivors = sum(answer.survived)
    for survived, count in (("1", survivors), ("0", len(answer.survived) - survivors)):
        if count:
            labelled(children, metrics.predictions, model_version=ref.version, survived=survived).inc(count)
    for p in answer.probability:
        metrics.probability.observe(p)
