"""The FastAPI app: `uvicorn --factory serving.app:create_app`. A thin shell over the core.

The champion is loaded (and checked) in the background after startup, so `/health` answers at
once and `/ready` turns 200 when a model serves; a poll follows the alias from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from serving.http import FastJSON, Observe, install_error_handlers
from serving.metrics import Metrics
from serving.routes import install_routes
from titanic_mlops import feature_store, request_features
from titanic_mlops.prediction_log import PredictionLog, open_log
from titanic_mlops.registry import Registry
from titanic_mlops.serving_model import ModelHolder, ReloadResult
from titanic_mlops.settings import Settings

logger = logging.getLogger("serving")
# SQLite log: WAL checkpoints in a background thread, not in a request (see SqlitePredictionLog).
_CHECKPOINT_SECONDS = 1.0


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
        try:
            result = self.holder.refresh(force=force)
        except Exception:
            self.metrics.reloads.labels(result="error").inc()
            raise
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
    metrics = Metrics(settings.resolved_monitoring_url, settings.model_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = Registry(
            settings.resolved_tracking_uri,
            settings.resolved_artifact_root,
            settings.model_name,
            probe_timeout=settings.tracking_probe_timeout_seconds,
        )
        runtime = Runtime(
            settings,
            metrics,
            ModelHolder(registry, settings.serving_engine),
            open_log(settings.resolved_prediction_log_url, checkpoint_seconds=_CHECKPOINT_SECONDS),
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
            metrics.monitoring.close()

    app = FastAPI(
        title="titanic-mlops",
        summary="Survival predictions from the registry's champion, with feedback and metrics.",
        version="1",
        lifespan=lifespan,
        default_response_class=FastJSON,
    )
    app.add_middleware(Observe, metrics=metrics)
    install_error_handlers(app)
    install_routes(app, settings, metrics)
    return app
