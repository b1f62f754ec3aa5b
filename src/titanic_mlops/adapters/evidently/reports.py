"""The Evidently 0.7 adapter's reports: what a monitoring cycle and an experiment's look measure.

One cycle gives two reports: data drift per model input plus prediction drift plus data quality
(current window vs the training reference), and classification quality on the rows whose ground
truth has arrived. Both become snapshots in a local Evidently workspace (one project per model,
what `evidently ui` shows) and standalone HTML files. The online experiment's looks add a third,
both arms on the same passengers, in a project of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops.adapters.evidently import workspace as evidently_workspace
from titanic_mlops.domain import experiment_counts, features
from titanic_mlops.domain.monitoring_data import LABEL, PREDICTION, PROBABILITY
from titanic_mlops.domain.params import MonitorParams
from titanic_mlops.domain.schema import THRESHOLD

# Forced, so a drift score always means a p-value whatever the sample sizes (Evidently would
# switch to distances above 1,000 reference rows, and the threshold would change meaning).
NUM_METHOD = "ks"
CAT_METHOD = "chisquare"


@dataclass(frozen=True)
class DriftResult:
    share: float
    drifted_columns: list[str]
    scores: dict[str, float]
    prediction_score: float | None
    prediction_drifted: bool
    labelled_rows: int
    accuracy: float | None
    snapshots: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        return {
            "drift_share": round(self.share, 4),
            "drifted_columns": self.drifted_columns,
            "column_p_values": {k: round(v, 6) for k, v in self.scores.items()},
            "prediction_drift_p_value": self.prediction_score,
            "prediction_drifted": self.prediction_drifted,
            "labelled_rows": self.labelled_rows,
            "live_accuracy": self.accuracy,
        }


def analyse(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    params: MonitorParams,
    labelled: pd.DataFrame | None = None,
    full: bool = True,
) -> DriftResult:
    """Model inputs (+ `probability`) of the window vs the reference; `labelled` adds `label`,
    `prediction`, `probability` rows for classification quality.

    `full=False` computes only the per-column tests (the same p-values, so the same decision)
    without the dataset-level drift table, data summary and classification report: for benchmarks.
    """
    from evidently import Report

    columns = list(features.MONITORED)
    with_prediction = PROBABILITY in current.columns and PROBABILITY in reference.columns
    keep = [*columns, PROBABILITY] if with_prediction else columns
    snapshot = Report(_drift_metrics(columns, with_prediction, params, full)).run(
        _dataset(current[keep], with_prediction), _dataset(reference[keep], with_prediction)
    )
    scores = _value_drift_scores(snapshot.dict())
    drifted = [c for c in columns if scores.get(c, 1.0) < params.column_drift_p_value]
    prediction_score = scores.get(PROBABILITY)
    snapshots = {"drift": snapshot}
    accuracy = None
    rows = 0 if labelled is None else len(labelled)
    if labelled is not None and rows:
        accuracy = float((labelled[PREDICTION].astype(int) == labelled[LABEL].astype(int)).mean())
        if full and labelled[LABEL].nunique() == 2:
            snapshots["classification"] = _classification(labelled, reference)
    return DriftResult(
        share=len(drifted) / len(columns),
        drifted_columns=drifted,
        scores={c: scores[c] for c in columns if c in scores},
        prediction_score=None if prediction_score is None else round(prediction_score, 6),
        prediction_drifted=prediction_score is not None and prediction_score < params.column_drift_p_value,
        labelled_rows=rows,
        accuracy=accuracy,
        snapshots=snapshots,
    )


def _drift_metrics(columns: list[str], with_prediction: bool, params: MonitorParams, full: bool) -> list[Any]:
    """The drift preset (or, for benchmarks, only the per-column tests), prediction drift, a summary."""
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    threshold = params.column_drift_p_value
    metrics: list[Any]
    if full:
        metrics = [
            DataDriftPreset(
                columns=columns,
                drift_share=params.drift_share_threshold,
                num_method=NUM_METHOD,
                cat_method=CAT_METHOD,
                threshold=threshold,
            )
        ]
    else:
        metrics = [ValueDrift(column=c, method=_method(c), threshold=threshold) for c in columns]
    if with_prediction:
        metrics.append(ValueDrift(column=PROBABILITY, method=NUM_METHOD, threshold=threshold))
    if full:
        metrics.append(DataSummaryPreset())
    return metrics


def save(
    result: DriftResult,
    workspace: Path,
    project: str,
    html_dir: Path,
    stamp: str,
    labels: dict[str, str] | None = None,
    params: MonitorParams | None = None,
) -> dict[str, str]:
    """Add each snapshot to the Evidently workspace project and write it as HTML; returns their ids.

    Called only once the cycle's record is written, so a refused (overlapping) cycle leaves no
    snapshot. `labels` (model version, window ids, action) become the snapshot's metadata and
    `key=value` tags. The HTML is written to a temporary file and renamed; a snapshot file in
    the workspace that does not parse is moved to `<workspace>/quarantine/` with a warning, so
    the UI keeps listing the rest; a failure here is logged, never raised (monitoring goes on).
    """

    def create(ws: Any) -> Any:
        return evidently_workspace.monitoring_project(ws, project, params)

    snapshots = result.snapshots
    return evidently_workspace.store(snapshots, workspace, project, html_dir, stamp, labels or {}, create)


def _method(column: str) -> str:
    return NUM_METHOD if column in features.NUMERIC else CAT_METHOD


def _dataset(frame: pd.DataFrame, with_prediction: bool) -> Any:
    from evidently import DataDefinition, Dataset

    numeric = list(features.NUMERIC) + ([PROBABILITY] if with_prediction else [])
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=list(features.CATEGORICAL))
    return Dataset.from_pandas(frame.reset_index(drop=True), data_definition=definition)


def _classification(labelled: pd.DataFrame, reference: pd.DataFrame) -> Any:
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset

    definition = DataDefinition(
        classification=[
            BinaryClassification(target=LABEL, prediction_labels=PREDICTION, prediction_probas=PROBABILITY)
        ]
    )
    current = labelled[[LABEL, PREDICTION, PROBABILITY]].astype({LABEL: int, PREDICTION: int})
    ref = None
    if {LABEL, PROBABILITY} <= set(reference.columns) and reference[LABEL].nunique() == 2:
        ref_frame = pd.DataFrame(
            {
                LABEL: reference[LABEL].astype(int).to_numpy(),
                PREDICTION: (reference[PROBABILITY].to_numpy() >= THRESHOLD).astype(int),
                PROBABILITY: reference[PROBABILITY].to_numpy(dtype=np.float64),
            }
        )
        ref = Dataset.from_pandas(ref_frame, data_definition=definition)
    return Report([ClassificationPreset()]).run(
        Dataset.from_pandas(current.reset_index(drop=True), data_definition=definition), ref
    )


ARMS_REPORT = "arms"


def compare_arms(pairs: pd.DataFrame) -> Any | None:
    """Champion and challenger quality on the same labelled passengers (`experiment_counts.shadow_pairs`).

    One dataset with two named classifications, not reference vs current: both arms' metrics come
    from the same rows, the HTML shows them one after the other, and a dashboard series tells them
    apart by `classification_name`. None without both classes (no ROC AUC, no confusion matrix).
    """
    if len(pairs) < 2 or pairs[experiment_counts.LABEL].nunique() < 2:
        return None  # before the import: a look with no labelled pairs yet costs no Evidently (2.5 s)
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset, DataSummaryPreset

    columns = {arm: experiment_counts.arm_columns(arm) for arm in experiment_counts.ARMS}
    probabilities = [probability for _, probability in columns.values()]
    definition = DataDefinition(
        numerical_columns=probabilities,
        classification=[
            BinaryClassification(
                name=arm,
                target=experiment_counts.LABEL,
                prediction_labels=label,
                prediction_probas=probability,
            )
            for arm, (label, probability) in columns.items()
        ],
    )
    keep = [experiment_counts.LABEL, *(c for pair in columns.values() for c in pair)]
    # The served threshold: Evidently derives the labels from the probabilities (`>=`, as serving).
    metrics: list[Any] = [
        ClassificationPreset(probas_threshold=THRESHOLD, classification_name=arm) for arm in columns
    ]
    metrics.append(DataSummaryPreset(columns=probabilities))
    frame = Dataset.from_pandas(pairs[keep].reset_index(drop=True), data_definition=definition)
    return Report(metrics).run(frame, None)


def save_arms(
    snapshot: Any, workspace: Path, project: str, html_dir: Path, stamp: str, labels: dict[str, str]
) -> dict[str, str]:
    """`compare_arms`'s snapshot into its own project (created with the arms' dashboard) and HTML."""

    def create(ws: Any) -> Any:
        return evidently_workspace.arms_project(ws, project)

    snapshots = {ARMS_REPORT: snapshot}
    return evidently_workspace.store(snapshots, workspace, project, html_dir, stamp, labels, create)


def _value_drift_scores(payload: dict[str, Any]) -> dict[str, float]:
    """Column -> drift score (a p-value with the forced methods) from the snapshot's metrics."""
    scores: dict[str, float] = {}
    for metric in payload.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith("ValueDrift") and "column" in config:
            scores[str(config["column"])] = float(metric["value"])
    return scores
