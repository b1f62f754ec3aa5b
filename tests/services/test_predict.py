"""Batch scoring: in chunks and on Dask partitions it gives the whole-file answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.workspace import RAW_TEST, RAW_TRAIN
from titanic_mlops.adapters import onnx_graph
from titanic_mlops.domain import features, schema, training
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import ingest, predict, scoring


def training_frame() -> pd.DataFrame:
    raw = ingest.read_raw_csv(RAW_TRAIN, labelled=True)
    table = features.build_feature_table(raw.drop(columns=[schema.LABEL]), datetime(2020, 1, 1, tzinfo=UTC))
    return table.assign(**{schema.LABEL: raw.sort_values(schema.ID)[schema.LABEL].to_numpy()})


@pytest.fixture(scope="module")
def small_model() -> scoring.LoadedModel:
    frame = training_frame()
    inputs, labels = features.coerce_inputs(frame), frame[schema.LABEL].to_numpy()
    pipeline = training.build_pipeline(training.estimator_for("logistic_regression", 0)).fit(inputs, labels)
    return scoring.LoadedModel(ModelRef("m", "1", "r"), "sklearn", scoring.PipelineScorer(pipeline))


def sizes(tickets: Sequence[str]) -> list[float | None]:
    return [2.0 if str(t).isdigit() else None for t in tickets]


def test_scoring_in_chunks_equals_scoring_the_whole_file(tmp_path: Path, small_model: Any) -> None:
    whole = tmp_path / "whole.csv"
    assert predict.score_file(RAW_TEST, whole, small_model, sizes) == 418
    out = tmp_path / "chunked.csv"
    rows = predict.score_csv(RAW_TEST, out, small_model, sizes, chunk_rows=50)
    assert rows == 418
    assert pd.read_csv(out).equals(pd.read_csv(whole))


def test_a_chunk_size_below_one_is_refused(tmp_path: Path, small_model: Any) -> None:
    with pytest.raises(ValueError, match="--chunk-rows"):
        predict.score_csv(RAW_TEST, tmp_path / "x.csv", small_model, sizes, chunk_rows=0)


@pytest.mark.slow
def test_scoring_on_dask_partitions_equals_scoring_in_chunks(tmp_path: Path, small_model: Any) -> None:
    big = tmp_path / "big.csv"
    pd.concat([pd.read_csv(RAW_TEST, dtype=str)] * 5).to_csv(big, index=False)
    chunked, on_dask = tmp_path / "chunked.csv", tmp_path / "dask.csv"
    predict.score_csv(big, chunked, small_model, sizes, chunk_rows=300)
    graph = onnx_graph.to_onnx(small_model.scorer.pipeline)
    rows = predict.score_csv_dask(
        big, on_dask, predict.PortableModel(small_model.ref, "onnx", graph), sizes, blocksize="40KB"
    )
    assert rows == 5 * 418
    assert pd.read_csv(on_dask).equals(pd.read_csv(chunked))
