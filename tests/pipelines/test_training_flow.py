"""Fan-out: the model search on Prefect's Dask task runner gives the sequential search's answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.workspace import RAW_TRAIN, ROOT
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import features, schema, training
from titanic_mlops.services import ingest


def training_frame() -> pd.DataFrame:
    raw = ingest.read_raw_csv(RAW_TRAIN, labelled=True)
    table = features.build_feature_table(raw.drop(columns=[schema.LABEL]), datetime(2020, 1, 1, tzinfo=UTC))
    return table.assign(**{schema.LABEL: raw.sort_values(schema.ID)[schema.LABEL].to_numpy()})


@pytest.mark.slow
def test_the_search_on_dask_picks_what_the_sequential_search_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import flow
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from pipelines.training import flow_for, select, train_flow

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    (tmp_path / "prefect").mkdir()
    params = load_params(ROOT / "params.yaml")
    small = params.model_copy(
        update={
            "train": params.train.model_copy(
                update={
                    "cv_folds": 3,
                    "candidates": {
                        "logistic_regression": {"C": [0.1, 1.0]},
                        "random_forest": {"n_estimators": [20]},
                    },
                }
            )
        }
    )
    frame = training_frame()

    @flow
    def search(frame: pd.DataFrame, params: Any, fan_out: bool) -> training.Selection:
        return select(frame, params, fan_out)

    runner = flow_for(True).task_runner
    assert type(runner).__name__ == "DaskTaskRunner"
    assert flow_for(False) is train_flow
    # One server for the flow and every Dask worker process: with Prefect's temporary server each
    # worker, a fresh process, would start its own on the same database (as `early_server` avoids
    # for the CLI by exporting PREFECT_API_URL before the cluster starts).
    with prefect_test_harness(server_startup_timeout=180):
        monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
        on_dask = search.with_options(task_runner=runner)(frame, small, fan_out=True)
    inputs, labels = features.coerce_inputs(frame.drop(columns=[schema.LABEL])), frame[schema.LABEL]
    sequential = training.select_model(inputs, labels, small.train)
    assert on_dask == sequential
    assert {row.family for row in on_dask.leaderboard} == {"logistic_regression", "random_forest"}
