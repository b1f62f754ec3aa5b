"""The matplotlib adapter, the only module that imports it: the training run's figures for MLflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from titanic_mlops.domain import evaluation


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
