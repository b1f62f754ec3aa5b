"""The stores' contracts: what every backend of the prediction log, monitoring state and lock does.

Backends (`sqlite_log`, `postgres_log`, `file_monitoring`, `postgres_monitoring`, `file_lock`,
`postgres_lock`) implement these protocols and raise these errors; callers hold the protocol
types only, from `factory`. `tests/stores` runs one contract suite against every backend.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
from pydantic import ValidationError

from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.domain.records import CycleResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedPrediction:
    """One prediction as the log keeps it: the raw record, the model inputs it was scored on."""

    request_id: str
    model_name: str
    model_version: str
    passenger_id: int | None
    record: dict[str, Any]
    inputs: dict[str, Any]
    probability: float
    survived: int
    latency_ms: float


class PredictionLog(Protocol):
    """Every prediction served, and the ground truth that arrives later: what monitoring reads."""

    def append(self, rows: list[LoggedPrediction]) -> list[int]:
        """All rows or none, durable on return; the ids follow the rows' order."""
        ...

    def add_feedback(
        self, label: int, prediction_id: int | None = None, passenger_id: int | None = None
    ) -> int:
        """Attach ground truth to a prediction (the latest one for a PassengerId); its id."""
        ...

    def window(self, after_id: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Predictions with id > after_id, oldest first, model inputs expanded as `f_<input>`."""
        ...

    def labelled(self, after_id: int = 0) -> pd.DataFrame:
        """Predictions that have ground truth (the latest label wins), with the label column."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...


class MonitoringStore(Protocol):
    """Monitoring's memory between cycles: the policy state, the cycles, the retraining cursor.

    `record` moves the policy state, the latest cycle and the cycle log together, and only if no
    other cycle recorded after `started_from` was read (else `CycleConflict`), so two
    overlapping cycles never judge the same predictions twice.
    """

    def policy(self) -> PolicyState: ...

    def latest(self) -> CycleResult | None: ...

    def record(self, result: CycleResult, policy: PolicyState, started_from: PolicyState) -> None: ...

    def cycles(self, limit: int | None = 100) -> list[CycleResult]:
        """The newest `limit` cycles (None: all), oldest first."""
        ...

    def retraining_cursor(self) -> int:
        """The last prediction id whose feedback became a training batch (or was refused for good)."""
        ...

    def save_retraining_cursor(self, cursor: int) -> None: ...

    def close(self) -> None: ...


class Lock(Protocol):
    """A named lock across processes; the holder's death releases it."""

    def hold(self, name: str, timeout: float) -> AbstractContextManager[None]: ...


class FeedbackTargetMissing(LookupError):
    """No logged prediction answers the feedback's prediction id or PassengerId."""

    @classmethod
    def of(cls, prediction_id: int | None, passenger_id: int | None) -> FeedbackTargetMissing:
        target = f"prediction {prediction_id}" if prediction_id is not None else f"PassengerId {passenger_id}"
        return cls(f"no logged prediction for {target}")


class CycleConflict(TitanicMlopsError):
    """Another monitoring cycle recorded after this one read the policy state."""


class TargetNotEmpty(TitanicMlopsError):
    """The store to copy into already holds data; copies go into empty stores only."""


class LockTimeout(TitanicMlopsError):
    """Another holder kept the lock for longer than the timeout."""


def conflict(current: PolicyState, started_from: PolicyState) -> CycleConflict:
    return CycleConflict(
        f"another monitoring cycle recorded meanwhile (cursor {current.cursor}, this cycle started "
        f"from {started_from.cursor}); this cycle's result is dropped"
    )


def usable_cycle(payload: object, where: str) -> CycleResult | None:
    """A stored cycle the gauges can use, or None (logged) when it is not one."""
    try:
        return CycleResult.model_validate(payload)
    except ValidationError as exc:
        logger.warning("monitoring state %s is not a monitoring cycle: %s", where, exc)
        return None
