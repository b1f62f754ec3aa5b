"""The training flow (Prefect 3): Feast features -> split -> model search -> fit -> MLflow.

A thin shell: each task calls one core function. The DVC `train` stage runs this flow.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task

from titanic_mlops import (
    atomic,
    dataset,
    evaluation,
    feature_store,
    features,
    lineage,
    onnx_model,
    reports,
    training,
)
from titanic_mlops.params import Params
from titanic_mlops.registry import Registry


@task
def load_training_frame(
    validated: Path, repo: Path, state: Path, params: Params, feast_config: str
) -> pd.DataFrame:
    table = pd.read_parquet(validated)
    entities = dataset.labelled_entities(table, params.features.event_timestamp)
    store = feature_store.open_store(repo, state, feast_config)
    return feature_store.historical_features(store, entities)


@task
def search_family(frame: pd.DataFrame, family: str, params: Params) -> list[dict[str, Any]]:
    x, y = dataset.xy(frame)
    return training.search_family(x, pd.Series(y, index=x.index), family, params.train)


def select(frame: pd.DataFrame, params: Params, fan_out: bool) -> training.Selection:
    """One task per model family: submitted to the flow's task runner (Dask) or run in turn."""
    families = list(params.train.candidates)
    if fan_out:
        futures = [search_family.submit(frame, family, params) for family in families]
        boards = [future.result() for future in futures]
    else:
        boards = [search_family(frame, family, params) for family in families]
    return training.choose([row for board in boards for row in board])


def flow_for(dask: bool, address: str | None = None) -> Any:
    """`train_flow` as is (sequential search), or on Dask: a local cluster, or the one at `address`."""
    if not dask:
        return train_flow
    from prefect_dask import DaskTaskRunner

    runner = (
        DaskTaskRunner(address=address)
        if address
        else DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True})
    )
    return train_flow.with_options(task_runner=runner)


@task
def fit(frame: pd.DataFrame, selection: training.Selection, params: Params) -> Any:
    x, y = dataset.xy(frame)
    return training.fit_selected(x, pd.Series(y, index=x.index), selection, params.train.seed)


@task
def register(
    registry: Registry,
    model: Any,
    holdout: pd.DataFrame,
    selection: training.Selection,
    report: dict[str, Any],
    tags: dict[str, str],
    params: Params,
) -> dict[str, Any]:
    x, y = dataset.xy(holdout)
    probability = model.predict_proba(x)[:, 1]
    importance = reports.permutation_importance_table(model, x, y, params.train.seed)
    with tempfile.TemporaryDirectory() as tmp:
        figures = reports.write_figures(Path(tmp), y, probability, importance)
        atomic.write_json(figures / "leaderboard.json", selection.leaderboard)
        atomic.write_json(figures / "holdout_report.json", report)
        ref = registry.log_candidate(
            model,
            onnx_model.to_onnx(model),
            x,
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
            },
            artifacts=figures,
            tags=tags,
        )
    return {**asdict(ref), "importance": importance}


@flow(name="train", log_prints=True)
def train_flow(
    validated: Path,
    feature_source: Path,
    validation_report: Path,
    holdout_out: Path,
    metrics_out: Path,
    plots_dir: Path,
    candidate_out: Path,
    repo: Path,
    state: Path,
    params: Params,
    registry: Registry,
    feast_config: str = feature_store.CONFIG_FILE,
    fan_out: bool = False,
) -> dict[str, Any]:
    logger = get_run_logger()
    frame = load_training_frame(validated, repo, state, params, feast_config)
    train_index, holdout_index = training.split_holdout(frame, params.split)
    train_frame, holdout = frame.loc[train_index], frame.loc[holdout_index]
    atomic.write_parquet(holdout_out, holdout.reset_index(drop=True))
    selection = select(train_frame, params, fan_out)
    logger.info("selected %s %s (cv %.4f)", selection.family, selection.params, selection.cv_score)
    model = fit(train_frame, selection, params)
    x, y = dataset.xy(holdout)
    report = evaluation.evaluate(model, x, y)
    tags = lineage.lineage_tags(
        validated,
        feature_source,
        validation_report,
        feature_store.FEATURE_SERVICE,
        features.MODEL_FEATURES,
        Path.cwd(),
    )
    result = register(registry, model, holdout, selection, report, tags, params)
    cv = {
        "family": selection.family,
        "params": selection.params,
        "mean": selection.cv_score,
        "std": selection.cv_std,
    }
    probability = model.predict_proba(x)[:, 1]
    reports.write_dvc_reports(report, cv, y, probability, result.pop("importance"), metrics_out, plots_dir)
    candidate = {
        **result,
        "holdout": report["overall"],
        "train_rows": len(train_frame),
        "holdout_rows": len(holdout),
    }
    atomic.write_json(candidate_out, candidate)
    logger.info("registered %s version %s", result["name"], result["version"])
    return candidate
