"""The metrics records: what the stage outputs, the promotion records and `status` carry.

Apart from `evaluation`, which computes them over numpy and pandas: the records are read on every
`dvc repro` (by `promote` on a version judged already) and by `status`, where importing pandas
alone costs half a second.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Metrics(BaseModel):
    """Classification metrics at the decision threshold; ROC AUC only when both classes occur."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accuracy: float
    f1: float
    precision: float
    recall: float
    rows: int
    roc_auc: float | None = None


class EvaluationReport(BaseModel):
    """One model on one labelled set: overall, per slice, and the women-survive baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overall: Metrics
    slices: dict[str, Metrics]
    baseline: Metrics
