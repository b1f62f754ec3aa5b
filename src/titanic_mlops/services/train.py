"""Stage `train`, step by step: Feast features -> split -> model search -> fit -> MLflow -> reports.

The training flow (`pipelines.training`) runs each step as a Prefect task; nothing here knows
about Prefect.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import feast_store, git, onnx_graph, plots
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import dataset, evaluation, features, training
from titanic_mlops.domain.anomaly import Sidecar
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.stage_outputs import Candidate, ValidationReport
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import anomaly, explain, fairness


def training_frame(validated: Path, store: Any, params: Params) -> pd.DataFrame:
    """The labelled passengers with their model inputs from the Feast offline store."""
    table = pd.read_parquet(validated)
    entities = dataset.labelled_entities(table, params.features.event_timestamp)
    return feast_store.historical_features(store, entities)


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    train_index, holdout_index = training.split_holdout(frame, params.split)
    return frame.loc[train_index], frame.loc[holdout_index]


def search_family(frame: pd.DataFrame, family: str, params: Params) -> list[training.LeaderboardRow]:
    inputs, labels = dataset.inputs_and_labels(frame)
    return training.search_family(inputs, pd.Series(labels, index=inputs.index), family, params.train)


def fit(frame: pd.DataFrame, selection: training.Selection, params: Params) -> Any:
    inputs, labels = dataset.inputs_and_labels(frame)
    return training.fit_selected(inputs, pd.Series(labels, index=inputs.index), selection, params.train.seed)


def lineage_tags(
    validated: Path, feature_source: Path, validation_report: Path, repo: Path
) -> dict[str, str]:
    """The tags every registered version carries (the data hash equals DVC's md5 of the file)."""
    report = ValidationReport.model_validate_json(validation_report.read_text())
    return {
        "git_commit": git.git_commit(repo),
        "data_path": str(validated),
        "data_md5": atomic.file_md5(validated),
        "feature_source_md5": atomic.file_md5(feature_source),
        "feature_service": feast_store.FEATURE_SERVICE,
        "feature_names": ",".join(features.MODEL_INPUTS),
        "validation_success": str(report.success).lower(),
        "validation_expectations": str(report.evaluated_expectations),
    }


def register(
    registry: Registry,
    model: Any,
    holdout: pd.DataFrame,
    selection: training.Selection,
    report: evaluation.EvaluationReport,
    tags: dict[str, str],
    params: Params,
    train_frame: pd.DataFrame,
) -> tuple[ModelRef, pd.DataFrame]:
    """One MLflow run (params, metrics, figures, the ONNX graph) and a new registered version.

    Beside them, responsible AI: the outlier detector fitted on the training inputs (the
    version's sidecar, hash-checked like the graph), the SHAP summary and fairness by group.
    """
    inputs, labels = dataset.inputs_and_labels(holdout)
    probability = model.predict_proba(inputs)[:, 1]
    importance = evaluation.permutation_importance_table(model, inputs, labels, params.train.seed)
    sidecar = anomaly.build_sidecar(dataset.inputs_and_labels(train_frame)[0], params.train.seed)
    with tempfile.TemporaryDirectory() as tmp:
        figures = plots.write_figures(Path(tmp), labels, probability, importance)
        rai_metrics = responsible_ai(model, sidecar, inputs, labels, probability, figures)
        atomic.write_json(figures / "leaderboard.json", [row.as_dict() for row in selection.leaderboard])
        atomic.write_json(figures / "holdout_report.json", report.model_dump(mode="json"))
        ref = registry.log_candidate(
            model,
            onnx_graph.to_onnx(model),
            inputs,
            params={
                "family": selection.family,
                **{f"model.{k}": v for k, v in selection.params.items()},
                "split.seed": params.split.seed,
                "train.seed": params.train.seed,
                "cv_folds": params.train.cv_folds,
            },
            metrics={
                **evaluation.flat_metrics(report),
                "cv_mean": selection.cv_score,
                "cv_std": selection.cv_std,
                **rai_metrics,
            },
            artifacts=figures,
            tags=tags,
            sidecar=sidecar.to_json(),
        )
    return ref, importance


def responsible_ai(
    model: Any,
    sidecar: Sidecar,
    inputs: pd.DataFrame,
    labels: np.ndarray,
    probability: np.ndarray,
    figures: Path,
) -> dict[str, float]:
    """SHAP summary, fairness by group and the detector's holdout flag rate, as metrics + files."""
    shap_metrics, _ = explain.global_summary(model, sidecar, inputs, figures)
    reports = fairness.reports(inputs, labels, evaluation.predicted(probability))
    atomic.write_json(figures / "fairness.json", {k: r.model_dump() for k, r in reports.items()})
    (figures / "model_card_fairness.md").write_text(fairness.model_card_section(reports), encoding="utf-8")
    rate = anomaly.flag_rate(anomaly.Detector(sidecar), inputs)
    return {**shap_metrics, **fairness.flat_metrics(reports), "anomaly_holdout_flag_rate": rate}


def write_reports(
    report: evaluation.EvaluationReport,
    selection: training.Selection,
    labels: np.ndarray,
    probability: np.ndarray,
    importance: pd.DataFrame,
    metrics_path: Path,
    plots_dir: Path,
) -> None:
    """metrics.json and the plot tables `dvc metrics diff` / `dvc plots diff` compare."""
    cv = {
        "family": selection.family,
        "params": selection.params,
        "mean": selection.cv_score,
        "std": selection.cv_std,
    }
    atomic.write_json(metrics_path, {"holdout": report.model_dump(mode="json", exclude_none=True), "cv": cv})
    atomic.write_csv(plots_dir / "roc.csv", evaluation.roc_points(labels, probability))
    decided = evaluation.predicted(probability)
    atomic.write_csv(plots_dir / "confusion.csv", pd.DataFrame({"actual": labels, "predicted": decided}))
    atomic.write_csv(plots_dir / "feature_importance.csv", importance)


def write_holdout(path: Path, holdout: pd.DataFrame) -> None:
    atomic.write_parquet(path, holdout.reset_index(drop=True))


def write_candidate(path: Path, candidate: Candidate) -> None:
    atomic.write_json(path, candidate.model_dump(mode="json"))


def read_candidate(path: Path) -> Candidate:
    return Candidate.model_validate_json(path.read_text())
