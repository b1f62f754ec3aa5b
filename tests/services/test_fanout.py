"""Fan-out: the model search on Prefect's Dask task runner gives the sequential search's answer;
batch scoring in chunks and on Dask partitions gives the whole-file answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from titanic_mlops import batch_scoring, features, ingest, onnx_model, prediction, schema, training
from titanic_mlops.params import load_params
from titanic_mlops.registry import ModelRef

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "external" / "titanic"


def training_frame() -> pd.DataFrame:
    raw = ingest.read_raw_csv(RAW / "train.csv", labelled=True)
    table = features.build_feature_table(raw.drop(columns=[schema.LABEL]), datetime(2020, 1, 1, tzinfo=UTC))
    return table.assign(**{schema.LABEL: raw.sort_values(schema.ID)[schema.LABEL].to_numpy()})


@pytest.mark.slow
def test_the_search_on_dask_picks_what_the_sequential_search_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import flow

    from pipelines.training import flow_for, select, train_flow

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
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
    on_dask = search.with_options(task_runner=runner)(frame, small, fan_out=True)
    x, y = frame.drop(columns=[schema.LABEL]), frame[schema.LABEL]
    sequential = training.select_model(features.model_frame(x), y, small.train)
    assert on_dask == sequential
    assert {row["family"] for row in on_dask.leaderboard} == {"logistic_regression", "random_forest"}


@pytest.fixture(scope="module")
def small_model() -> prediction.LoadedModel:
    frame = training_frame()
    x, y = features.model_frame(frame), frame[schema.LABEL].to_numpy()
    pipeline = training.build_pipeline(training.estimator_for("logistic_regression", 0)).fit(x, y)
    return prediction.LoadedModel(ModelRef("m", "1", "r"), "sklearn", pipeline)


def sizes(tickets: Any) -> pd.Series:
    return pd.Series([2.0 if str(t).isdigit() else None for t in tickets], dtype="float64")


def test_scoring_in_chunks_equals_scoring_the_whole_file(tmp_path: Path, small_model: Any) -> None:
    whole = prediction.submission(
        prediction.score(ingest.read_raw_csv(RAW / "test.csv", labelled=False), small_model, sizes)
    )
    out = tmp_path / "chunked.csv"
    rows = batch_scoring.score_csv(RAW / "test.csv", out, small_model, sizes, chunk_rows=50)
    assert rows == 418
    assert pd.read_csv(out).equals(whole)


def test_a_chunk_size_below_one_is_refused(tmp_path: Path, small_model: Any) -> None:
    with pytest.raises(ValueError, match="--chunk-rows"):
        batch_scoring.score_csv(RAW / "test.csv", tmp_path / "x.csv", small_model, sizes, chunk_rows=0)


@pytest.mark.slow
def test_scoring_on_dask_partitions_equals_scoring_in_chunks(tmp_path: Path, small_model: Any) -> None:
    big = tmp_path / "big.csv"
    pd.concat([pd.read_csv(RAW / "test.csv", dtype=str)] * 5).to_csv(big, index=False)
    chunked, on_dask = tmp_path / "chunked.csv", tmp_path / "dask.csv"
    batch_scoring.score_csv(big, chunked, small_model, sizes, chunk_rows=300)
    onnx = batch_scoring.PortableModel(small_model.ref, "onnx", onnx_model.to_onnx(small_model.scorer))
    rows = batch_scoring.score_csv_dask(big, on_dask, onnx, sizes, blocksize="40KB")
    assert rows == 5 * 418
    assert pd.read_csv(on_dask).equals(pd.read_csv(chunked))
