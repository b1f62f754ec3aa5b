"""Batch scoring: in chunks, on Dask partitions and through the parser-typed path it gives the
whole-file, text-typed answer; bad numbers fall back to the path that names them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.workspace import RAW_TEST, RAW_TRAIN
from titanic_mlops.adapters import onnx_graph
from titanic_mlops.domain import features, schema, training
from titanic_mlops.domain.errors import RawDataError
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


def _inputs_of(chunks: Any, model: Any) -> list[scoring.Scoring]:
    return [scoring.score_frame(raw, model, sizes) for raw in chunks]


def test_the_parser_typed_path_gives_the_text_path_s_model_inputs(small_model: Any) -> None:
    fast = _inputs_of(predict.parsed_chunks(RAW_TEST, 100), small_model)
    slow = _inputs_of(predict.text_chunks(RAW_TEST, 100), small_model)
    assert len(fast) == len(slow) == 5
    for a, b in zip(fast, slow, strict=True):
        assert a.passenger_ids == b.passenger_ids
        for name in features.MODEL_INPUTS:
            np.testing.assert_array_equal(a.inputs[name], b.inputs[name], err_msg=name)
        np.testing.assert_array_equal(a.probability, b.probability)


def test_a_number_that_does_not_parse_is_read_again_as_text(
    tmp_path: Path, small_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    text = pd.read_csv(RAW_TEST, dtype=str)
    text.loc[7, "Age"] = "twenty"
    source = tmp_path / "bad.csv"
    text.to_csv(source, index=False)
    with pytest.raises(predict.UnparsedNumber, match="twenty"):
        list(predict.parsed_chunks(source, 100))
    out = tmp_path / "out.csv"
    with caplog.at_level("WARNING"):
        assert predict.score_csv(source, out, small_model, sizes, chunk_rows=100) == 418
    assert "reading it again as text" in caplog.text
    assert "Age" in caplog.text  # the text path names the column
    assert pd.read_csv(out)[schema.ID].tolist() == text[schema.ID].astype(int).tolist()


def test_a_missing_file_names_itself(tmp_path: Path, small_model: Any) -> None:
    with pytest.raises(RawDataError, match=r"no-such\.csv"):
        predict.score_file(tmp_path / "no-such.csv", tmp_path / "out.csv", small_model, sizes)


def test_a_large_batch_asks_the_store_once_per_distinct_ticket() -> None:
    asked: list[list[str]] = []

    def counting(tickets: Sequence[str]) -> list[float | None]:
        asked.append(list(tickets))
        return [3.0 if t == "A" else None for t in tickets]

    tickets = np.array(["A", "B", None] * 200, dtype=object)
    looked = scoring.group_sizes(tickets, counting)
    assert sorted(asked[0]) == ["A", "B", "None"]  # a gap is asked as "None", like one record's
    row_by_row = scoring.group_sizes(tickets[:3], counting)
    np.testing.assert_array_equal(looked, np.tile(row_by_row, 200))
    np.testing.assert_array_equal(row_by_row, [3.0, np.nan, np.nan])


def test_passenger_ids_keep_their_gaps() -> None:
    assert scoring.passenger_ids(pd.Series([3, 1], dtype="Int64")) == [3, 1]
    assert scoring.passenger_ids(pd.Series([3, None], dtype="Int64")) == [3, None]
    assert scoring.passenger_ids(pd.Series([2.0, np.nan])) == [2, None]
