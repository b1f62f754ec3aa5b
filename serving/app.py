"""The FastAPI app: `uvicorn --factory serving.app:create_app`. A thin shell over the services.

The champion is loaded (and checked) in the background after startup, so `/health` answers at
once and `/ready` turns 200 when a model serves; a poll follows the alias from then on. No
redirect is ever built from the request (trailing-slash redirects are off: `/health/` is a 404,
not a 307 to whatever the Host header names), and bodies are limited before they are parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from serving import docs
from serving.challenger import ChallengerSlot
from serving.http import FastJSON, Observe, install_error_handlers
from serving.limits import BodyLimit, server_options
from serving.metrics import Metrics
from serving.routers import admin, explain, feedback, health, predictions
from serving.runtime import Runtime
from titanic_mlops.config.settings import Settings
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.served_model import AliasFollower

# SQLite log: WAL checkpoints in a background thread, not in a request (see SqlitePredictionLog).
_CHECKPOINT_SECONDS = 1.0


def create_app(settings: Settings | None = None) -> FastAPI:
    deployment = Deployment(settings or Settings())
    metrics = Metrics(deployment)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = deployment.settings
        registry = deployment.registry(probe_timeout=s.tracking_probe_timeout_seconds)
        log = deployment.prediction_log(checkpoint_seconds=_CHECKPOINT_SECONDS)
        runtime = Runtime(deployment, metrics, AliasFollower(registry, s.serving_engine), log)
        paths = deployment.state  # a12: the challenger beside the champion
        runtime.challenger = ChallengerSlot(registry, s.serving_engine, paths, metrics.registry)
        app.state.runtime = runtime
        runtime.tasks.append(asyncio.create_task(runtime.follow_alias()))
        try:
            yield
        finally:
            for task in runtime.tasks:
                task.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            await asyncio.to_thread(runtime.writer.close)
            runtime.log.close()
            runtime.challenger.close()
            metrics.monitoring.close()

    app = FastAPI(
        title="titanic-mlops",
        summary="Survival predictions from the registry's champion, with feedback and metrics.",
        version="1",
        lifespan=lifespan,
        default_response_class=FastJSON,
        docs_url=None,  # serving/docs.py serves /docs and /redoc from local assets
        redoc_url=None,
        redirect_slashes=False,
    )
    docs.install(app)
    app.add_middleware(BodyLimit, settings=deployment.settings)
    app.add_middleware(Observe, metrics=metrics)
    install_error_handlers(app)
    for router in (predictions.router, explain.router, feedback.router, health.router, admin.router):
        app.include_router(router)
    return app


def run(host: str, port: int) -> None:
    """`titanic-mlops serve`: this app under one uvicorn worker, with the limits of `server_options`."""
    import uvicorn

    options = server_options(Settings())
    uvicorn.run(
        "serving.app:create_app", factory=True, host=host, port=port, workers=1, log_level="info", **options
    )
