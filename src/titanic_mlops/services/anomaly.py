"""The outlier detector: fitted in the train stage, shipped in the version's sidecar, run per request.

`build_sidecar` fits it on the training inputs (with the SHAP background sample); `Detector`
scores model input columns with the forest's arrays (domain.anomaly.Forest, walked by
onnxruntime: adapters.onnx_graph.LeafFinder), so serving deserializes no pickled estimator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops.adapters.onnx_graph import LeafFinder
from titanic_mlops.domain import anomaly

# Rows scored at once: the leaves are rows x trees float32 (4 MB at 10k rows and 100 trees).
CHUNK = 10_000


def build_sidecar(train_inputs: pd.DataFrame, seed: int) -> anomaly.Sidecar:
    """Forest, threshold (training scores' 99th percentile), envelope and background, as one file."""
    forest = anomaly.fit_forest(train_inputs, seed)
    scores = anomaly.anomaly_scores(forest, train_inputs)
    return anomaly.Sidecar(
        forest=anomaly.to_arrays(forest),
        threshold=anomaly.threshold(scores),
        envelope=anomaly.fit_envelope(train_inputs),
        background=anomaly.background_rows(train_inputs, seed),
    )


@dataclass(frozen=True)
class Flags:
    """Per passenger: the forest's anomaly score and the decision (score or envelope)."""

    score: np.ndarray
    anomalous: np.ndarray

    @property
    def count(self) -> int:
        return int(self.anomalous.sum())


class Detector:
    """The sidecar's detector, ready to score: ~35 us for one passenger (forest and envelope)."""

    def __init__(self, sidecar: anomaly.Sidecar) -> None:
        self.sidecar = sidecar
        self._leaves = LeafFinder(sidecar.forest.nodes)  # ~50 ms, once per loaded version

    def flags(self, inputs: Mapping[str, np.ndarray]) -> Flags:
        numeric = anomaly.numeric_matrix(inputs)
        forest = self.sidecar.forest
        matrix = forest.imputed(numeric)
        score = np.concatenate(
            [forest.scores(self._leaves.leaves(matrix[i : i + CHUNK])) for i in range(0, len(matrix), CHUNK)]
            or [np.zeros(0)]
        )
        outside = self.sidecar.envelope.outside(inputs, numeric)
        return Flags(score, anomaly.flagged(score, outside, self.sidecar.threshold))


def flag_rate(detector: Detector, inputs: pd.DataFrame) -> float:
    """The share of `inputs` flagged (the measured rate on snapshot passengers)."""
    columns: dict[str, Any] = {c: inputs[c].to_numpy() for c in inputs.columns}
    return float(detector.flags(columns).anomalous.mean())
