"""metrics.json holds the overall numbers, slices.json the per-slice ones; both diff cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from titanic_mlops.domain.metrics import EvaluationReport, Metrics
from titanic_mlops.domain.training import LeaderboardRow, Selection
from titanic_mlops.services import train


def metrics(accuracy: float) -> Metrics:
    return Metrics(accuracy=accuracy, f1=0.7, precision=0.7, recall=0.7, rows=10, roc_auc=0.8)


def test_overall_and_slices_go_to_separate_files_with_the_cv_summary(tmp_path: Path) -> None:
    report = EvaluationReport(overall=metrics(0.8), baseline=metrics(0.7), slices={"sex=male": metrics(0.6)})
    row = LeaderboardRow("logistic_regression", {"C": 1.0}, 0.86, 0.01, 1)
    selection = Selection("logistic_regression", {"C": 1.0}, 0.86, 0.01, [row])
    labels, probability = np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.4, 0.1])
    importance = pd.DataFrame({"feature": ["age"], "importance": [0.1]})
    train.write_reports(
        report, selection, labels, probability, importance, tmp_path / "metrics.json", tmp_path / "plots"
    )
    overall = json.loads((tmp_path / "metrics.json").read_text())
    cv = overall["cv"]
    assert {k: cv[k] for k in ("family", "params", "mean", "std")} == {
        "family": "logistic_regression",
        "params": {"C": 1.0},
        "mean": 0.86,
        "std": 0.01,
    }
    assert {"accuracy_mean", "accuracy_std", "auc_mean", "auc_std", "rule"} <= set(cv)
    assert set(overall["holdout"]) == {"overall", "baseline", "intervals"}
    assert overall["holdout"]["overall"]["accuracy"] == 0.8
    slices = json.loads((tmp_path / "slices.json").read_text())
    assert slices == {"holdout": {"sex=male": metrics(0.6).model_dump()}}
    assert (tmp_path / "plots" / "roc.csv").is_file()


def test_lineage_ignores_exactly_the_files_dvc_repro_rewrites() -> None:
    assert {str(path) for path in train.PIPELINE_OUTPUTS} == {
        "dvc.lock",
        "reports/metrics.json",
        "reports/slices.json",
        "reports/plots",
    }
