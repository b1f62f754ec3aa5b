"""The FastAPI app: `uvicorn --factory serving.app:create_app`. A thin shell over the core.

The champion is loaded (and checked) in the background after startup, so `/health` answers at
once and `/ready` turns 200 when a model serves; a poll follows the alias from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving import schemas
from serving.http import FastJSON, Observe, install_error_handlers, request_id
from serving.metrics import Metrics
from titanic_mlops import feature_store, prediction, request_features
from titanic_mlops.prediction_log import FeedbackTargetMissing, LoggedPrediction, PredictionLog, open_log
from titanic_mlops.registry import Registry
from titanic_mlops.serving_model import ModelHolder, ReloadResult, ServingModel
from titanic_mlops.settings import Settings

logger = logging.getLogger("serving")
_bearer = HTTPBearer(auto_error=False, description="TITANIC_MLOPS_ADMIN_TOKEN")


@dataclass
class Runtime:
    """Everything a request needs; `store` and `holder.current` fill in during warm-up."""

    settings: Settings
    metrics: Metrics
    holder: ModelHolder
    log: PredictionLog
    store: Any = None
    tickets: request_features.TicketSizes | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def open_store(self) -> None:
        s = self.settings
        store = feature_store.open_store(s.feature_repo, s.state, s.resolved_feast_config)
        self.tickets = request_features.TicketSizes(
            lambda tickets: feature_store.online_ticket_group_sizes(store, tickets)
        )
        self.store = store

    def reload(self, force: bool = False) -> ReloadResult:
        result = self.holder.refresh(force=force)
        self.metrics.reloads.labels(result=result).inc()
        if self.tickets is not None:
            self.tickets.clear()  # the store may have been re-materialized with the new model
        served = self.holder.current
        if result == "swapped" and served is not None:
            ref = served.model.ref
            self.metrics.served(ref.name, ref.version, ref.run_id, served.model.loaded_at)
        return result

    async def follow_alias(self) -> None:
        """Warm up (store, then the champion), then poll the alias until shutdown."""
        while self.store is None:
            try:
                await asyncio.to_thread(self.open_store)
            except Exception:
                logger.exception("cannot open the feature store; retrying")
                await asyncio.sleep(self.settings.reload_interval_seconds)
        while True:
            try:
                await asyncio.to_thread(self.reload)
            except Exception:
                logger.exception("alias poll failed; the current model keeps serving")
            await asyncio.sleep(self.settings.reload_interval_seconds)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics(settings.state)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = Registry(
            settings.resolved_tracking_uri, settings.resolved_artifact_root, settings.model_name
        )
        runtime = Runtime(
            settings,
            metrics,
            ModelHolder(registry, settings.serving_engine),
            open_log(settings.resolved_prediction_log_url),
        )
        app.state.runtime = runtime
        runtime.tasks.append(asyncio.create_task(runtime.follow_alias()))
        try:
            yield
        finally:
            for task in runtime.tasks:
                task.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            runtime.log.close()

    app = FastAPI(
        title="titanic-mlops",
        summary="Survival predictions from the registry's champion, with feedback and metrics.",
        version="1",
        lifespan=lifespan,
        default_response_class=FastJSON,
    )
    app.add_middleware(Observe, metrics=metrics)
    install_error_handlers(app)
    _routes(app, settings, metrics)
    return app


def _state(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _runtime(request: Request) -> Runtime:
    """Async, so FastAPI calls it inline rather than through its thread pool."""
    return _state(request)


async def _serving(runtime: Annotated[Runtime, Depends(_runtime)]) -> tuple[Runtime, ServingModel]:
    served = runtime.holder.current
    if served is None or runtime.store is None or runtime.tickets is None:
        raise HTTPException(503, "no model is loaded yet", headers={"Retry-After": "5"})
    return runtime, served


Serving = Annotated[tuple[Runtime, ServingModel], Depends(_serving)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not valid JSON"},
    413: {"description": "more instances than TITANIC_MLOPS_MAX_BATCH_SIZE"},
    415: {"description": "the body is not JSON"},
    503: {"description": "no model is loaded yet"},
}


def _routes(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    limit = settings.max_batch_size

    @app.post("/predict", response_model=schemas.PredictResponse, responses=_ERRORS)
    async def predict(body: schemas.PredictRequest, request: Request, serving: Serving) -> Response:
        """Score passengers given in Kaggle columns; population features come from the store."""
        runtime, served = serving
        if len(body.instances) > limit:
            raise HTTPException(
                413, f"instances: {len(body.instances)} passengers exceed the limit of {limit}"
            )
        records = [p.model_dump() for p in body.instances]
        assert runtime.tickets is not None
        scored = request_features.score_records(records, served.model, runtime.tickets)
        for feature, count in request_features.missing_counts(scored.vectors).items():
            metrics.missing.labels(feature=feature).inc(count)
        ids = _log(request, runtime, served, scored, records, scored.vectors)
        return FastJSON(_answer(served, scored, ids))

    @app.get(
        "/passengers/{passenger_id}/prediction",
        response_model=schemas.PassengerPrediction,
        responses={
            404: {"description": "the online store does not know this PassengerId"},
            503: {"description": "no model is loaded yet, or the online store is unavailable"},
        },
    )
    async def passenger(
        passenger_id: Annotated[int, Path(ge=1, le=schemas.MAX_ID)], request: Request, serving: Serving
    ) -> Response:
        """Score a known passenger from the Feast online store, by PassengerId."""
        runtime, served = serving
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
        ids = _log(request, runtime, served, scored, [{"PassengerId": passenger_id}], [vector])
        answer = _answer(served, scored, ids)["predictions"][0]
        clean = {k: None if isinstance(v, float) and v != v else v for k, v in vector.items()}
        return FastJSON(
            {
                "model_name": served.model.ref.name,
                "model_version": served.version,
                **answer,
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
    async def model(serving: Serving) -> Response:
        """Name, version, run, metrics, lineage and load time of the model serving now."""
        runtime, served = serving
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
        reason = refused.reason if result == "refused" and refused else None
        return FastJSON(
            {"result": result, "model_version": served.version if served else None, "reason": reason}
        )


def _log(
    request: Request,
    runtime: Runtime,
    served: ServingModel,
    scored: prediction.Scored | request_features.RequestScores,
    records: list[dict[str, Any]],
    vectors: list[dict[str, Any]],
) -> list[int]:
    """Append one row per prediction before answering; the ids let feedback point back."""
    started = request.scope.get("state", {}).get("started", time.perf_counter())
    latency_ms = (time.perf_counter() - started) * 1000
    ref, rid = served.model.ref, request_id(request)
    rows = [
        LoggedPrediction(rid, ref.name, ref.version, pid, record, vector, float(p), int(s), latency_ms)
        for pid, record, vector, p, s in zip(
            scored.passenger_ids,
            records,
            vectors,
            scored.probability.tolist(),
            scored.survived.tolist(),
            strict=True,
        )
    ]
    ids = runtime.log.append(rows)
    metrics = runtime.metrics
    metrics.log_rows.inc(len(ids))
    for p, s in zip(scored.probability.tolist(), scored.survived.tolist(), strict=True):
        metrics.predictions.labels(model_version=ref.version, survived=str(s)).inc()
        metrics.probability.observe(p)
    return ids


def _answer(
    served: ServingModel, scored: prediction.Scored | request_features.RequestScores, ids: list[int]
) -> dict[str, Any]:
    return {
        "model_name": served.model.ref.name,
        "model_version": served.version,
        "predictions": [
            {"passenger_id": pid, "survived": int(s), "probability": float(p), "prediction_id": i}
            for pid, s, p, i in zip(
                scored.passenger_ids, scored.survived.tolist(), scored.probability.tolist(), ids, strict=True
            )
        ],
    }
