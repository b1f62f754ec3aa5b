"""The training flow (Prefect 3): one task per step of `services.train`. The DVC `train` stage runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import dataset, evaluation, training
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.stage_outputs import Candidate
from titanic_mlops.services import train

# Inputs such as the Feast store and the registry do not hash: no result caching (Prefect's default).
load_training_frame = task(name="load_training_frame", cache_policy=NO_CACHE)(train.training_frame)
search_family = task(name="search_family", cache_policy=NO_CACHE)(train.search_family)
fit = task(name="fit", cache_policy=NO_CACHE)(train.fit)
register = task(name="register", cache_policy=NO_CACHE)(train.register)


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
    from prefect_dask.task_runners import DaskTaskRunner

    runner = (
        DaskTaskRunner(address=address)
        if address
        else DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True})
    )
    # A TaskRunner of Dask futures: Prefect's annotation asks for one of its base futures.
    return train_flow.with_options(task_runner=runner)  # type: ignore[arg-type]


@flow(name="train", log_prints=True)
def train_flow(
    validated: Path,
    feature_source: Path,
    validation_report: Path,
    holdout_out: Path,
    metrics_out: Path,
    plots_dir: Path,
    candidate_out: Path,
    params: Params,
    registry: Registry,
    store: Any,
    fan_out: bool = False,
) -> Candidate:
    """The `train` stage; `registry` and the Feast `store` come from the deployment's settings."""
    logger = get_run_logger()
    frame = load_training_frame(validated, store, params)
    train_frame, holdout = train.split(frame, params)
    train.write_holdout(holdout_out, holdout)
    selection = select(train_frame, params, fan_out)
    logger.info("selected %s %s (cv %.4f)", selection.family, selection.params, selection.cv_score)
    model = fit(train_frame, selection, params)
    inputs, labels = dataset.inputs_and_labels(holdout)
    report = evaluation.evaluate(model, inputs, labels)
    tags = train.lineage_tags(validated, feature_source, validation_report, Path.cwd())
    ref, importance = register(registry, model, holdout, selection, report, tags, params, train_frame)
    probability = model.predict_proba(inputs)[:, 1]
    train.write_reports(report, selection, labels, probability, importance, metrics_out, plots_dir)
    candidate = Candidate(
        name=ref.name,
        version=ref.version,
        run_id=ref.run_id,
        holdout=report.overall,
        train_rows=len(train_frame),
        holdout_rows=len(holdout),
    )
    train.write_candidate(candidate_out, candidate)
    logger.info("registered %s version %s", ref.name, ref.version)
    return candidate
