"""Holdout metrics, slices and the baseline: what the gate and the reports are made of.

scikit-learn is imported where a metric is computed, not here: the records, the stores and so
`status` and the API import this module, and scikit-learn's import costs about a second.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from titanic_mlops.domain import paired
from titanic_mlops.domain.metrics import EvaluationReport, Metrics
from titanic_mlops.domain.schema import THRESHOLD

SLICE_COLUMNS = ("sex", "pclass")


class ProbabilisticModel(Protocol):
    def predict_proba(self, x: pd.DataFrame) -> Any: ...


def predicted(probability: np.ndarray) -> np.ndarray:
    """The served decision: survived when P(survived) reaches the threshold."""
    return (np.asarray(probability) >= THRESHOLD).astype(int)


def classification_metrics(y_true: np.ndarray, probability: np.ndarray) -> Metrics:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    decided = predicted(probability)
    roc_auc = roc_auc_score(y_true, probability) if len(np.unique(y_true)) == 2 else None
    return Metrics(
        accuracy=round(float(accuracy_score(y_true, decided)), 6),
        f1=round(float(f1_score(y_true, decided, zero_division=0)), 6),
        precision=round(float(precision_score(y_true, decided, zero_division=0)), 6),
        recall=round(float(recall_score(y_true, decided, zero_division=0)), 6),
        rows=len(y_true),
        roc_auc=None if roc_auc is None else round(float(roc_auc), 6),
    )


def women_survive_baseline(frame: pd.DataFrame) -> np.ndarray:
    """The classic rule of thumb every model must beat: every woman survives, no man does."""
    return (frame["sex"].astype(str) == "female").astype(float).to_numpy()


def slice_metrics(frame: pd.DataFrame, y_true: np.ndarray, probability: np.ndarray) -> dict[str, Metrics]:
    """The same metrics per Sex and per Pclass, keyed 'sex=female', 'pclass=3', ..."""
    out: dict[str, Metrics] = {}
    for column in SLICE_COLUMNS:
        values = frame[column].to_numpy()
        for value in sorted(pd.unique(values), key=str):
            mask = values == value
            label = int(value) if isinstance(value, float) and value.is_integer() else value
            out[f"{column}={label}"] = classification_metrics(y_true[mask], probability[mask])
    return out


def evaluate(model: ProbabilisticModel, inputs: pd.DataFrame, labels: np.ndarray) -> EvaluationReport:
    """Everything the gate reads about one model on one labelled frame."""
    return report(inputs, labels, np.asarray(model.predict_proba(inputs))[:, 1])


def report(inputs: pd.DataFrame, labels: np.ndarray, probability: np.ndarray) -> EvaluationReport:
    """The report of given P(survived) on a labelled frame (the gate scores each model once)."""
    labels, probability = np.asarray(labels), np.asarray(probability)
    return EvaluationReport(
        overall=classification_metrics(labels, probability),
        slices=slice_metrics(inputs, labels, probability),
        baseline=classification_metrics(labels, women_survive_baseline(inputs)),
    )


def flat_metrics(report: EvaluationReport, prefix: str = "holdout") -> dict[str, float]:
    """'holdout_accuracy', 'holdout_sex=female_accuracy', 'baseline_accuracy', ... for MLflow."""
    flat = {f"{prefix}_{k}": v for k, v in _numbers(report.overall).items()}
    for name, metrics in report.slices.items():
        safe = name.replace("=", "_")
        flat.update({f"{prefix}_{safe}_{k}": v for k, v in _numbers(metrics).items()})
    flat.update({f"baseline_{k}": v for k, v in _numbers(report.baseline).items()})
    return flat


def interval_metrics(
    labels: np.ndarray, probability: np.ndarray, prefix: str = "holdout"
) -> dict[str, float]:
    """95% bootstrap intervals of accuracy and ROC AUC: 'holdout_accuracy_low', ..._high."""
    level = paired.REPORT_CONFIDENCE
    out: dict[str, float] = {}
    intervals = {"accuracy": paired.accuracy_interval(labels, probability, level)}
    if len(np.unique(labels)) == 2:
        intervals["roc_auc"] = paired.auc_interval(labels, probability, level)
    for metric, interval in intervals.items():
        out[f"{prefix}_{metric}_low"], out[f"{prefix}_{metric}_high"] = interval.low, interval.high
    return out


def roc_points(y_true: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    from sklearn.metrics import roc_curve

    """The ROC plot's points, rounded to 6 places: probabilities differ in the last bits from one
    CPU to another (BLAS kernels), and unrounded thresholds made reports/plots/roc.csv, a DVC
    output in git, differ between two machines training on the same data."""
    fpr, tpr, threshold = roc_curve(y_true, probability)
    return pd.DataFrame({"fpr": fpr.round(6), "tpr": tpr.round(6), "threshold": threshold.round(6)})


def confusion(y_true: np.ndarray, probability: np.ndarray) -> list[list[int]]:
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, predicted(probability), labels=[0, 1])
    return [[int(v) for v in row] for row in matrix]


def permutation_importance_table(
    model: Any, inputs: pd.DataFrame, labels: np.ndarray, seed: int
) -> pd.DataFrame:
    """Model-agnostic importance on the holdout: the drop in ROC AUC when a column is shuffled."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, inputs, labels, scoring="roc_auc", n_repeats=5, random_state=seed, n_jobs=1
    )
    table = pd.DataFrame(
        {
            "feature": inputs.columns,
            "importance": result.importances_mean.round(6),
            "std": result.importances_std.round(6),
        }
    )
    return table.sort_values(["importance", "feature"], ascending=[False, True])


def _numbers(metrics: Metrics) -> dict[str, float]:
    """The metrics MLflow logs: every rate that exists, not the row count."""
    return {k: float(v) for k, v in metrics.model_dump(exclude={"rows"}).items() if v is not None}
