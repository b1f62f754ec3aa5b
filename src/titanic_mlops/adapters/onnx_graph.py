"""The ONNX adapter (skl2onnx, onnxruntime), the only module that imports them: the fitted
pipeline as an ONNX graph, and its runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from titanic_mlops.domain import features

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def to_onnx(pipeline: Any) -> bytes:
    """One graph input per model column: floats for numerics (ONNX Imputer takes no doubles)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [(c, FloatTensorType([None, 1])) for c in features.NUMERIC]
    inputs += [(c, StringTensorType([None, 1])) for c in features.CATEGORICAL]
    graph = convert_sklearn(
        pipeline,
        initial_types=inputs,
        target_opset=TARGET_OPSET,
        options={id(pipeline): {"zipmap": False}},
    )
    return bytes(graph.SerializeToString())


class OnnxModel:
    """P(survived) from one array per model input, like the pipeline it was converted from.

    Serving builds no DataFrame per request: pandas costs ~1 ms for one row, the whole answer
    well under that.
    """

    def __init__(self, payload: bytes) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            payload, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._probability_output = self._session.get_outputs()[1].name

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.run(self.feed(inputs))

    def feed(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's inputs: float32 columns, and text columns as str (not object) arrays."""
        feed = {c: np.asarray(inputs[c], dtype=np.float32).reshape(-1, 1) for c in features.NUMERIC}
        for c in features.CATEGORICAL:
            feed[c] = np.asarray(inputs[c], dtype=object).astype(str).reshape(-1, 1)
        return feed

    def run(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """The graph alone on a prepared feed (what the batch benchmark calls the floor)."""
        result = self._session.run([self._probability_output], dict(feed))[0]
        return np.asarray(result, dtype=np.float64)[:, 1]
