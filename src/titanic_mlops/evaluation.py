"""Holdout metrics, slices and the baseline: what the gate and the reports are made of."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

SLICE_COLUMNS = ("sex", "pclass")


class ProbabilisticModel(Protocol):
    def predict_proba(self, x: pd.DataFrame) -> Any: ...


def classification_metrics(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Threshold 0.5; ROC AUC is NaN-free only when both classes are present."""
    predicted = (probability >= 0.5).astype(int)
    metrics = {
        "accuracy": accuracy_score(y_true, predicted),
        "f1": f1_score(y_true, predicted, zero_division=0),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "rows": float(len(y_true)),
    }
    if len(np.unique(y_true)) == 2:
        metrics["roc_auc"] = roc_auc_score(y_true, probability)
    return {key: round(float(value), 6) for key, value in metrics.items()}


def women_survive_baseline(frame: pd.DataFrame) -> np.ndarray:
    """The classic rule of thumb every model must beat: every woman survives, no man does."""
    return (frame["sex"].astype(str) == "female").astype(float).to_numpy()


def slice_metrics(
    frame: pd.DataFrame, y_true: np.ndarray, probability: np.ndarray
) -> dict[str, dict[str, float]]:
    """The same metrics per Sex and per Pclass, keyed 'sex=female', 'pclass=3', ..."""
    out: dict[str, dict[str, float]] = {}
    for column in SLICE_COLUMNS:
        values = frame[column].to_numpy()
        for value in sorted(pd.unique(values), key=str):
            mask = values == value
            label = int(value) if isinstance(value, float) and value.is_integer() else value
            out[f"{column}={label}"] = classification_metrics(y_true[mask], probability[mask])
    return out


def evaluate(model: ProbabilisticModel, x: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """Everything the gate reads about one model on one labelled frame."""
    probability = np.asarray(model.predict_proba(x))[:, 1]
    baseline = women_survive_baseline(x)
    return {
        "overall": classification_metrics(y, probability),
        "slices": slice_metrics(x, y, probability),
        "baseline": classification_metrics(y, baseline),
    }


def flat_metrics(report: dict[str, Any], prefix: str = "holdout") -> dict[str, float]:
    """'holdout_accuracy', 'holdout_sex=female_accuracy', 'baseline_accuracy', ... for MLflow."""
    flat = {f"{prefix}_{k}": v for k, v in report["overall"].items() if k != "rows"}
    for name, metrics in report["slices"].items():
        safe = name.replace("=", "_")
        flat.update({f"{prefix}_{safe}_{k}": v for k, v in metrics.items() if k != "rows"})
    flat.update({f"baseline_{k}": v for k, v in report["baseline"].items() if k != "rows"})
    return flat


def roc_points(y_true: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    fpr, tpr, threshold = roc_curve(y_true, probability)
    return pd.DataFrame({"fpr": fpr.round(6), "tpr": tpr.round(6), "threshold": threshold})


def confusion(y_true: np.ndarray, probability: np.ndarray) -> list[list[int]]:
    matrix = confusion_matrix(y_true, (probability >= 0.5).astype(int), labels=[0, 1])
    return [[int(v) for v in row] for row in matrix]
