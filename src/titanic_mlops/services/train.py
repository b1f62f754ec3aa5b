"""Stage `train`, step by step: Feast features -> split -> model search -> fit -> MLflow -> reports.

The training flow (`pipelines.training`) runs each step as a Prefect task; nothing here knows
about Prefect.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import feast_store, git, onnx_graph, plots
from titanic_mlops.adapters.mlflow import card, record
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config import layout
from titanic_mlops.domain import dataset, evaluation, features, schema, training
from titanic_mlops.domain.anomaly import Sidecar
from titanic_mlops.domain.metrics import EvaluationReport
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.stage_outputs import Candidate, ValidationReport
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import anomaly, explain, fairness

logger = logging.getLogger("titanic_mlops")


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


def fit(frame: pd.DataFrame, selection: training.Selection, params: Params) -> evaluation.ProbabilisticModel:
    """The selected pipeline fitted on the training split (typed by what evaluation needs of it)."""
    inputs, labels = dataset.inputs_and_labels(frame)
    fitted: evaluation.ProbabilisticModel = training.fit_selected(
        inputs, pd.Series(labels, index=inputs.index), selection, params.train.seed
    )
    return fitted


# Files `dvc repro` itself rewrites while it runs: a change there does not make the code dirty.
PIPELINE_OUTPUTS = (layout.DVC_LOCK, layout.METRICS, layout.SLICES, layout.PLOTS)


def lineage_tags(
    validated: Path, feature_source: Path, validation_report: Path, repo: Path
) -> dict[str, str]:
    """The tags every registered version carries (the data hash equals DVC's md5 of the file)."""
    report = ValidationReport.model_validate_json(validation_report.read_text())
    return {
        "git_commit": git.git_commit(repo, PIPELINE_OUTPUTS),
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
    report: EvaluationReport,
    tags: dict[str, str],
    params: Params,
    train_frame: pd.DataFrame | None = None,
    trigger: str | None = None,
) -> tuple[ModelRef, pd.DataFrame]:
    """The training record (a parent run, a child per candidate, the inputs), then a new version.

    Runs an earlier training left RUNNING (a kill) are marked FAILED first. The parent run holds
    the selected model's params, metrics, figures and ONNX graph; its version's description is
    the model card, and the run is renamed `train-v<version>-<trigger>` once the version exists.
    """
    trigger = trigger or _trigger()
    orphans = record.reconcile_orphans(registry)
    if orphans:
        logger.warning("marked %d interrupted training run(s) FAILED: %s", len(orphans), orphans)
    inputs, labels = dataset.inputs_and_labels(holdout)
    importance = evaluation.permutation_importance_table(model, inputs, labels, params.train.seed)
    run_tags = {**tags, "trigger": trigger}
    chosen = {"family": selection.family, "params": selection.params}
    with record.training_run(registry, f"train-{trigger}", run_tags) as run_id:
        record.log_candidates(registry, selection.leaderboard, chosen)
        record.log_inputs(_input_sets(train_frame, holdout, tags))
        ref = _log_selected(
            registry, model, holdout, selection, report, run_tags, params, importance, train_frame
        )
    model_card = card.model_card(
        ref.name,
        ref.version,
        trigger,
        cv_summary(selection),
        report.model_dump(mode="json", exclude_none=True),
        tags,
        {"train": len(train_frame) if train_frame is not None else 0, "holdout": len(holdout)},
    )
    record.describe(registry, run_id, ref.version, f"train-v{ref.version}-{trigger}", model_card)
    return ref, importance


def _log_selected(
    registry: Registry,
    model: Any,
    holdout: pd.DataFrame,
    selection: training.Selection,
    report: EvaluationReport,
    tags: dict[str, str],
    params: Params,
    importance: pd.DataFrame,
    train_frame: pd.DataFrame | None = None,
) -> ModelRef:
    """The selected model in the active run: params, metrics, figures, ONNX graph, new version.

    Beside them, responsible AI: the outlier detector fitted on the training inputs (the
    version's sidecar, hash-checked like the graph), the SHAP summary and fairness by group.
    """
    inputs, labels = dataset.inputs_and_labels(holdout)
    probability = model.predict_proba(inputs)[:, 1]
    sidecar = (
        anomaly.build_sidecar(dataset.inputs_and_labels(train_frame)[0], params.train.seed)
        if train_frame is not None
        else None
    )
    with tempfile.TemporaryDirectory() as tmp:
        figures = plots.write_figures(Path(tmp), labels, probability, importance)
        rai_metrics = responsible_ai(model, sidecar, inputs, labels, probability, figures) if sidecar else {}
        atomic.write_json(figures / "leaderboard.json", [row.as_dict() for row in selection.leaderboard])
        atomic.write_json(figures / "holdout_report.json", report.model_dump(mode="json"))
        return registry.log_candidate(
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
                **{f"cv_{key}": value for key, value in cv_summary(selection).items() if _number(value)},
                "cv_roc_auc_mean": selection.auc_mean,  # the names the gate and status read
                "cv_roc_auc_std": selection.auc_std,
                **evaluation.interval_metrics(labels, probability),
                **rai_metrics,
            },
            artifacts=figures,
            tags=tags,
            sidecar=sidecar.to_json() if sidecar else None,
        )


def _input_sets(
    train_frame: pd.DataFrame | None, holdout: pd.DataFrame, tags: dict[str, str]
) -> list[record.InputSet]:
    # The holdout as `write_holdout` stores it, so its digest is that of the file's table.
    frozen = holdout.reset_index(drop=True)
    sets = [record.InputSet("holdout", frozen, str(layout.HOLDOUT), "holdout", schema.LABEL)]
    if train_frame is not None:
        sets.insert(0, record.InputSet("train", train_frame, tags["data_path"], "training", schema.LABEL))
    return sets


def _trigger() -> str:
    from titanic_mlops.config.settings import Settings

    return Settings().trigger


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
    report: EvaluationReport,
    selection: training.Selection,
    labels: np.ndarray,
    probability: np.ndarray,
    importance: pd.DataFrame,
    metrics_path: Path,
    plots_dir: Path,
    slices_path: Path | None = None,
) -> None:
    """The files `dvc metrics diff` / `dvc plots diff` compare: overall apart from per-slice.

    `metrics_path` holds the selection's cross-validation and the holdout's overall and baseline
    metrics, one short row in `dvc metrics show`; `slices_path` (default: slices.json next to
    it) holds the holdout's per-slice metrics. Neither holds timings, so both diff cleanly.
    """
    holdout = report.model_dump(mode="json", exclude_none=True)
    slices = holdout.pop("slices")
    holdout["intervals"] = evaluation.interval_metrics(labels, probability)
    cv = {**cv_summary(selection), "rule": selection.rule}
    atomic.write_json(metrics_path, {"cv": cv, "holdout": holdout})
    atomic.write_json(slices_path or metrics_path.with_name(layout.SLICES.name), {"holdout": slices})
    atomic.write_csv(plots_dir / "roc.csv", evaluation.roc_points(labels, probability))
    decided = evaluation.predicted(probability)
    atomic.write_csv(plots_dir / "confusion.csv", pd.DataFrame({"actual": labels, "predicted": decided}))
    atomic.write_csv(plots_dir / "feature_importance.csv", importance)


def cv_summary(selection: training.Selection) -> dict[str, Any]:
    """The selected configuration and every scalar the selection carries (mean, spread, ...)."""
    summary: dict[str, Any] = {"family": selection.family, "params": selection.params}
    for name, value in vars(selection).items():
        if name in summary or not _number(value):
            continue
        summary[_CV_NAMES.get(name, name.removeprefix("cv_"))] = value
    return summary


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# The names metrics.json has always used, so `dvc metrics diff` against older commits lines up.
_CV_NAMES = {"cv_score": "mean", "cv_std": "std"}


def write_holdout(path: Path, holdout: pd.DataFrame) -> None:
    atomic.write_parquet(path, holdout.reset_index(drop=True))


def write_candidate(path: Path, candidate: Candidate) -> None:
    atomic.write_json(path, candidate.model_dump(mode="json"))
