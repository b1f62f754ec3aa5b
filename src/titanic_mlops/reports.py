"""The training run's reports: DVC metrics and plots (deterministic), and figures for MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import atomic, evaluation


def write_dvc_reports(
    report: dict[str, Any],
    cv: dict[str, Any],
    y: np.ndarray,
    probability: np.ndarray,
    importance: pd.DataFrame,
    metrics_path: Path,
    plots_dir: Path,
) -> None:
    """metrics.json and the plot tables `dvc metrics diff` / `dvc plots diff` compare."""
    atomic.write_json(metrics_path, {"holdout": report, "cv": cv})
    atomic.write_csv(plots_dir / "roc.csv", evaluation.roc_points(y, probability))
    predicted = (probability >= 0.5).astype(int)
    atomic.write_csv(plots_dir / "confusion.csv", pd.DataFrame({"actual": y, "predicted": predicted}))
    atomic.write_csv(plots_dir / "feature_importance.csv", importance)


def permutation_importance_table(model: Any, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Model-agnostic importance on the holdout: the drop in ROC AUC when a column is shuffled."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, x, y, scoring="roc_auc", n_repeats=5, random_state=seed, n_jobs=1)
    table = pd.DataFrame(
        {
            "feature": x.columns,
            "importance": result.importances_mean.round(6),
            "std": result.importances_std.round(6),
        }
    )
    return table.sort_values(["importance", "feature"], ascending=[False, True])


def write_figures(out: Path, y: np.ndarray, probability: np.ndarray, importance: pd.DataFrame) -> Path:
    """Confusion matrix, ROC curve and feature importance as PNGs for the MLflow run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    matrix = np.array(evaluation.confusion(y, probability))
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xlabel="predicted",
        ylabel="actual",
        title="Holdout confusion matrix",
    )
    fig.savefig(out / "confusion_matrix.png", bbox_inches="tight")
    plt.close(fig)
    roc = evaluation.roc_points(y, probability)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(roc["fpr"], roc["tpr"], label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="Holdout ROC")
    ax.legend()
    fig.savefig(out / "roc_curve.png", bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    top = importance.head(14).iloc[::-1]
    ax.barh(top["feature"], top["importance"])
    ax.set(xlabel="ROC AUC drop when shuffled", title="Permutation importance")
    fig.savefig(out / "feature_importance.png", bbox_inches="tight")
    plt.close(fig)
    importance.to_csv(out / "feature_importance.csv", index=False)
    return out
