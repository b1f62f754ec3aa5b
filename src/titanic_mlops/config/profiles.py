"""Deployment profiles: one switch, `TITANIC_MLOPS_PROFILE`, moves every store at once.

`embedded` keeps everything under the state directory (SQLite, local files). `production` points
every store at shared services: an MLflow server backed by PostgreSQL (artifacts proxied by the
server), Feast with a Redis online store and a SQL registry on PostgreSQL, and the prediction log
and monitoring state on PostgreSQL. An explicit setting (`TITANIC_MLOPS_TRACKING_URI`, ...) always
wins over the profile, so one store can be moved on its own. The code paths are the same in both profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from titanic_mlops.config.layout import StateLayout
from titanic_mlops.stores.urls import is_postgres

Name = Literal["embedded", "production"]

EMBEDDED_FEAST_CONFIG = "feature_store.yaml"
PRODUCTION_FEAST_CONFIG = "feature_store.production.yaml"
PRODUCTION_DATABASE = "postgresql://postgres@127.0.0.1:5432/titanic_mlops"

# Variables feature_store.production.yaml reads; the environment overrides each one.
FEAST_VARIABLES: dict[str, str] = {
    # Feast's Redis connection string: host:port[,db=N][,password=...][,ssl=true]
    "TITANIC_MLOPS_FEAST_REDIS": "127.0.0.1:6379,db=0",
    # SQLAlchemy URL of the Feast registry database
    "TITANIC_MLOPS_FEAST_REGISTRY_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/titanic_mlops",
}


@dataclass(frozen=True)
class StoreDefaults:
    """None means: derived from the state directory (the embedded layout)."""

    tracking_uri: str | None
    artifact_root: str | None
    prediction_log_url: str | None
    feast_config: str


_DEFAULTS: dict[str, StoreDefaults] = {
    "embedded": StoreDefaults(None, None, None, EMBEDDED_FEAST_CONFIG),
    "production": StoreDefaults(
        tracking_uri="http://127.0.0.1:5000",
        # The MLflow server proxies artifacts (`--artifacts-destination` decides where they live).
        artifact_root="mlflow-artifacts:/titanic-mlops",
        prediction_log_url=PRODUCTION_DATABASE,
        feast_config=PRODUCTION_FEAST_CONFIG,
    ),
}


def defaults(name: str) -> StoreDefaults:
    if name not in _DEFAULTS:
        raise ValueError(
            f"TITANIC_MLOPS_PROFILE: unknown profile {name!r} (expected one of {sorted(_DEFAULTS)})"
        )
    return _DEFAULTS[name]


def lock_url(explicit: str | None, prediction_log_url: str, state: StateLayout) -> str:
    """Promotion locks live with the shared database when there is one, else under the state dir."""
    return explicit or _beside_log(prediction_log_url, f"file://{state.locks}")


def monitoring_url(explicit: str | None, prediction_log_url: str, state: StateLayout) -> str:
    """Monitoring state sits with the prediction log it reads: one database, or the state dir."""
    return explicit or _beside_log(prediction_log_url, f"file://{state.monitoring}")


def _beside_log(prediction_log_url: str, embedded: str) -> str:
    return prediction_log_url if is_postgres(prediction_log_url) else embedded
