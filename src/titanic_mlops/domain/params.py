"""What changes the model: params.yaml as frozen models, so a typo in a key fails loudly.

Each section is named after the stage (and CLI subcommand) that reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestParams(_Frozen):
    min_rows: int = Field(gt=0)
    max_rows: int = Field(gt=0)


class ValidateParams(_Frozen):
    """How many gaps a column may have; the bounds and allowed values are the schema's."""

    max_null_fraction: dict[str, float]


class FeatureParams(_Frozen):
    event_timestamp: datetime


class SplitParams(_Frozen):
    seed: int
    holdout_fraction: float = Field(gt=0.0, lt=0.5)


class TrainParams(_Frozen):
    """The search: repeated stratified K-fold, candidates listed simplest first."""

    seed: int
    cv_folds: int = Field(ge=2)
    cv_repeats: int = Field(default=1, ge=1)
    primary_metric: Literal["roc_auc", "accuracy"]
    candidates: dict[str, dict[str, list[float | int | str]]]

    @model_validator(mode="after")
    def _at_least_one_candidate(self) -> TrainParams:
        if not self.candidates:
            raise ValueError("train.candidates must name at least one model family")
        return self


class FairnessParams(_Frozen):
    """The gate's fairness checks (domain.fairness says what they mean on this data)."""

    attributes: list[Literal["sex", "pclass", "age_band"]] = Field(min_length=1)
    max_equalized_odds_difference: float = Field(ge=0.0, le=1.0)
    max_equalized_odds_increase: float = Field(ge=0.0, le=1.0)


class PromoteParams(_Frozen):
    min_accuracy: float = Field(ge=0.0, le=1.0)
    min_roc_auc: float = Field(ge=0.0, le=1.0)
    beat_baseline: bool
    non_inferiority_margin: float = Field(ge=0.0, le=1.0)
    slice_min_accuracy: float = Field(ge=0.0, le=1.0)
    slice_min_rows: int = Field(ge=1)
    # The two-sided level of the gate's intervals (0.90: each "above" is a one-sided 5% test).
    confidence: float = Field(default=0.90, gt=0.5, lt=1.0)
    bootstrap_resamples: int = Field(default=2000, ge=200)
    fairness: FairnessParams | None = None


class MonitorParams(_Frozen):
    min_window_rows: int = Field(ge=1)
    drift_share_threshold: float = Field(gt=0.0, le=1.0)
    column_drift_p_value: float = Field(gt=0.0, lt=1.0)
    consecutive_windows: int = Field(ge=1)
    quality_floor: float = Field(ge=0.0, le=1.0)
    min_labelled_rows: int = Field(ge=1)
    cooldown_minutes: float = Field(ge=0.0)
    feedback_holdout_fraction: float = Field(gt=0.0, lt=1.0)
    min_feedback_rows: int = Field(ge=1)


class Guardrails(_Frozen):
    """When serving drops the challenger and the experiment stops, whatever the statistics say."""

    max_challenger_error_rate: float = Field(ge=0.0, le=1.0)
    max_latency_ratio: float = Field(ge=1.0)
    min_guardrail_requests: int = Field(ge=1)
    sample_ratio_p_value: float = Field(gt=0.0, lt=1.0)


class ExperimentParams(_Frozen):
    """The online A/B test between `champion` and `challenger` (docs/monitoring.md)."""

    mode: Literal["off", "shadow", "canary"]
    canary_share: float = Field(gt=0.0, lt=1.0)
    alpha: float = Field(gt=0.0, lt=0.5)
    power: float = Field(gt=0.5, lt=1.0)
    min_detectable_effect: float = Field(gt=0.0, lt=1.0)
    non_inferiority_margin: float = Field(ge=0.0, lt=1.0)
    max_labelled_rows: int = Field(ge=1)
    guardrails: Guardrails

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        """YAML 1.1 reads a bare `off` as false: `mode: off` means mode off."""
        return "off" if value is False else value


class Params(_Frozen):
    ingest: IngestParams
    validate_: ValidateParams = Field(alias="validate")
    features: FeatureParams
    split: SplitParams
    train: TrainParams
    promote: PromoteParams
    monitor: MonitorParams | None = None
    # Absent = mode off: a params file without the section keeps the single-stage gate.
    experiment: ExperimentParams | None = None
