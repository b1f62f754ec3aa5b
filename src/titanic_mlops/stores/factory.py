"""URL -> store: one scheme -> builder map per kind, each importing its backend only when asked.

So a process that never touches PostgreSQL never imports psycopg, and no backend imports this
module (the map points down, nothing points back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from titanic_mlops.stores import urls
from titanic_mlops.stores.interfaces import Lock, MonitoringStore, PredictionLog

DEFAULT_LOCK_TIMEOUT_SECONDS: Final = 900.0


def _sqlite_log(url: urls.StoreUrl, checkpoint_seconds: float | None) -> PredictionLog:
    from titanic_mlops.stores.sqlite_log import SqlitePredictionLog

    return SqlitePredictionLog(url.path, checkpoint_seconds)


def _postgres_log(url: urls.StoreUrl, checkpoint_seconds: float | None) -> PredictionLog:
    from titanic_mlops.stores.postgres_log import PostgresPredictionLog

    return PostgresPredictionLog(url.target)


def _file_monitoring(url: urls.StoreUrl, model_name: str) -> MonitoringStore:
    from titanic_mlops.stores.file_monitoring import FileMonitoringStore

    return FileMonitoringStore(url.path)


def _postgres_monitoring(url: urls.StoreUrl, model_name: str) -> MonitoringStore:
    from titanic_mlops.stores.postgres_monitoring import PostgresMonitoringStore

    return PostgresMonitoringStore(url.target, model_name)


def _file_lock(url: urls.StoreUrl) -> Lock:
    from titanic_mlops.stores.file_lock import FileLock

    return FileLock(url.path)


def _postgres_lock(url: urls.StoreUrl) -> Lock:
    from titanic_mlops.stores.postgres_lock import PostgresLock

    return PostgresLock(url.target)


_LOGS: Final[dict[urls.Scheme, Callable[[urls.StoreUrl, float | None], PredictionLog]]] = {
    "sqlite": _sqlite_log,
    "postgresql": _postgres_log,
}
_MONITORING: Final[dict[urls.Scheme, Callable[[urls.StoreUrl, str], MonitoringStore]]] = {
    "file": _file_monitoring,
    "postgresql": _postgres_monitoring,
}
_LOCKS: Final[dict[urls.Scheme, Callable[[urls.StoreUrl], Lock]]] = {
    "file": _file_lock,
    "postgresql": _postgres_lock,
}


def open_prediction_log(url: str, checkpoint_seconds: float | None = None) -> PredictionLog:
    """`sqlite:///path` or `postgresql://...` (TITANIC_MLOPS_PREDICTION_LOG_URL).

    `checkpoint_seconds`: SQLite only, WAL checkpoints in a background thread; for a process
    that writes a lot (the API).
    """
    parsed = urls.parse(url, "TITANIC_MLOPS_PREDICTION_LOG_URL", tuple(_LOGS))
    return _LOGS[parsed.scheme](parsed, checkpoint_seconds)


def open_monitoring_store(url: str, model_name: str) -> MonitoringStore:
    """`file:///dir` or `postgresql://...` (TITANIC_MLOPS_MONITORING_URL, else from the profile)."""
    parsed = urls.parse(url, "TITANIC_MLOPS_MONITORING_URL", tuple(_MONITORING))
    return _MONITORING[parsed.scheme](parsed, model_name)


def open_lock(url: str) -> Lock:
    """`file:///dir` or `postgresql://...` (TITANIC_MLOPS_LOCK_URL, else from the profile)."""
    parsed = urls.parse(url, "TITANIC_MLOPS_LOCK_URL", tuple(_LOCKS))
    return _LOCKS[parsed.scheme](parsed)
