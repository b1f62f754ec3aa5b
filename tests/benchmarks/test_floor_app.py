"""The floor of `make bench-serving` answers what the pipeline it was exported from answers.

It reads each input's type from the ONNX graph, so a model input added to `features.MODEL_INPUTS`
(a string key such as `wcg_group`) reaches the graph as the graph expects it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest

from benchmarks import peers
from scripts.bench_peers import floor_app
from tests.support.workspace import RAW_TRAIN
from titanic_mlops.adapters import onnx_graph
from titanic_mlops.domain import features, schema, training
from titanic_mlops.services import ingest


def test_the_floor_scores_every_model_input_as_the_pipeline_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = ingest.read_raw_csv(RAW_TRAIN, labelled=True)
    table = features.build_feature_table(raw.drop(columns=[schema.LABEL]), datetime(2020, 1, 1, tzinfo=UTC))
    inputs = features.coerce_inputs(table)
    labels = raw.sort_values(schema.ID)[schema.LABEL].to_numpy()
    pipeline = training.build_pipeline(training.estimator_for("logistic_regression", 0)).fit(inputs, labels)
    graph = tmp_path / "model.onnx"
    graph.write_bytes(onnx_graph.to_onnx(pipeline))
    monkeypatch.setenv("BENCH_ONNX", str(graph))
    rows = inputs.head(20)
    assert list(rows.columns) == list(features.MODEL_INPUTS)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=floor_app.create())
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            return await client.post("/invocations", content=peers.split_body(rows))

    answer = asyncio.run(post())
    assert answer.status_code == 200
    expected = pipeline.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(json.loads(answer.content)["predictions"], expected, atol=1e-4)
