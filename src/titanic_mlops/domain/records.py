"""What the loop records, each as one typed contract written and read back by the same type.

Every history event (the promotion decision is also reports/promotion.json), a monitoring
cycle's result, a retraining's outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from titanic_mlops.domain.experiment_records import ExperimentEvent
from titanic_mlops.domain.gate_checks import GateCheck
from titanic_mlops.domain.metrics import Metrics

Action = Literal["none", "retrain"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SetMetrics(_Record):
    """One evaluation set as the gate saw it: both models' overall metrics."""

    challenger: Metrics
    champion: Metrics | None


class PromotionEvent(_Record):
    event: Literal["promotion"] = "promotion"
    time: str = Field(default_factory=now_iso)
    trigger: str
    model_name: str
    challenger_version: str
    champion_before: str | None
    champion_after: str | None
    promoted: bool
    reason: str
    checks: list[GateCheck]
    metrics: dict[str, SetMetrics]


class RollbackEvent(_Record):
    event: Literal["rollback"] = "rollback"
    time: str = Field(default_factory=now_iso)
    trigger: str = "manual"
    model_name: str
    champion_before: str
    champion_after: str
    promoted: bool = True
    reason: str


class MonitoringEvent(_Record):
    """A cycle whose verdict was `retrain` (quiet cycles live in the monitoring state only)."""

    event: Literal["monitoring"] = "monitoring"
    time: str = Field(default_factory=now_iso)
    trigger: str = "drift"
    action: Action = "retrain"
    reason: str
    drift_share: float
    live_accuracy: float | None
    window_ids: list[int] | None


class FlowRunOrigin(_Record):
    """What started a retraining run by the loop: the Prefect event and the two flow runs."""

    event_id: str | None = None
    monitor_flow_run_id: str | None = None
    retrain_flow_run_id: str | None = None


class RetrainingOutcome(_Record):
    """What one retraining attempt ended with (the retrain flow's result)."""

    promoted: bool
    reason: str
    new_version: str | None = None
    batch: str | None = None
    data_version: str | None = None


class _RetrainingAttempt(_Record):
    """What every retraining record carries: when, why it ran, how it ended, what started it."""

    time: str = Field(default_factory=now_iso)
    trigger: str
    promoted: bool = False
    reason: str
    origin: FlowRunOrigin | None = None


class RetrainingEvent(_RetrainingAttempt):
    event: Literal["retraining"] = "retraining"
    promoted: bool
    rows: int
    recent_rows: int
    prediction_ids: list[int]
    new_version: str | None = None
    batch: str | None = None
    data_version: str | None = None


class RetrainingRefusedEvent(_RetrainingAttempt):
    event: Literal["retraining_refused"] = "retraining_refused"
    rows: int
    skipped_prediction_ids: list[int] | None = None


class RetrainingFailedEvent(_RetrainingAttempt):
    event: Literal["retraining_failed"] = "retraining_failed"
    batch: str


HistoryEvent = Annotated[
    PromotionEvent
    | RollbackEvent
    | MonitoringEvent
    | RetrainingEvent
    | RetrainingRefusedEvent
    | RetrainingFailedEvent
    | ExperimentEvent,
    Field(discriminator="event"),
]


class CycleResult(_Record):
    """One monitoring cycle, as the monitoring state stores it and `/metrics` exports it.

    A cycle whose window is too small to judge carries the last judged window's gauges. Numbers
    are finite and flags real booleans, so every store keeps (and JSON can carry) what it gets.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    time: float
    model_name: str
    window_rows: int
    drift_detected: StrictBool
    drift_share: float
    drifted_columns: int
    live_accuracy: float | None
    action: Action
    reason: str
    drifted: list[str] = Field(default_factory=list)
    labelled_rows: int = 0
    prediction_drift: StrictBool = False
    quality_breach: StrictBool = False
    reference_version: str | None = None
    window_ids: list[int] | None = None
    reports: dict[str, str] = Field(default_factory=dict)
    anomalous_share: float | None = None  # share the champion's outlier detector flagged (r14)
    fairness: dict[str, float] = Field(default_factory=dict)  # gaps by group on the labelled rows
