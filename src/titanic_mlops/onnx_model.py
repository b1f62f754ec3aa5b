"""The skl2onnx / onnxruntime adapter: the fitted pipeline as an ONNX graph, and its runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import features

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
    """predict_proba over a model frame, like the scikit-learn pipeline it was converted from.

    `predict_columns` scores plain column arrays instead: serving builds no DataFrame per request
    (pandas costs ~1 ms for one row, the whole answer well under that).
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

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        feed: dict[str, np.ndarray] = {}
        for column in features.NUMERIC:
            feed[column] = frame[column].to_numpy(dtype=np.float32).reshape(-1, 1)
        for column in features.CATEGORICAL:
            feed[column] = frame[column].to_numpy(dtype=object).astype(str).reshape(-1, 1)
        return self._run(feed)

    def predict_columns(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(survived) per row, from one array per model column (numbers, then categories)."""
        feed = {c: np.asarray(columns[c], dtype=np.float32).reshape(-1, 1) for c in features.NUMERIC}
        for c in features.CATEGORICAL:
            feed[c] = np.asarray(columns[c], dtype=object).astype(str).reshape(-1, 1)
        return self._run(feed)[:, 1]

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        result = self._session.run([self._probability_output], feed)[0]
        return np.asarray(result, dtype=np.float64)
