"""The outlier detector: is this passenger unlike anything the model was trained on?

Two tests, either flags: an IsolationForest on the numeric model inputs (its score above the
99th percentile of the training rows' scores) and the training envelope, each numeric input's
min/max and each category's seen levels. The forest alone ranks, but a 90-year-old, third-class
man is isolated no faster than a 74-year-old one: beyond the last split every value looks the
same to a tree. The envelope catches what the forest cannot see: a value outside the range.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from titanic_mlops.domain import features

FLAG_QUANTILE = 0.99  # ~1% of training-like passengers are flagged by the forest
N_ESTIMATORS = 100
BACKGROUND_ROWS = 100  # the training sample SHAP explanations are measured against


@dataclass(frozen=True)
class Envelope:
    """What training saw: numeric min/max, and the categories per categorical input."""

    low: dict[str, float]
    high: dict[str, float]
    levels: dict[str, list[str]]

    def outside(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """True per row where a numeric input leaves [min, max] or a category was never seen.

        A gap (NaN) is no anomaly: the imputer fills it, as training did.
        """
        rows = len(next(iter(inputs.values())))
        out = np.zeros(rows, dtype=bool)
        for name in features.NUMERIC:
            values = np.asarray(inputs[name], dtype=np.float64)
            with np.errstate(invalid="ignore"):
                out |= (values < self.low[name]) | (values > self.high[name])
        for name in features.CATEGORICAL:
            out |= ~np.isin(np.asarray(inputs[name], dtype=object).astype(str), self.levels[name])
        return out


def fit_envelope(inputs: pd.DataFrame) -> Envelope:
    numeric = inputs[list(features.NUMERIC)].astype("float64")
    return Envelope(
        low={c: float(numeric[c].min()) for c in features.NUMERIC},
        high={c: float(numeric[c].max()) for c in features.NUMERIC},
        levels={c: sorted(inputs[c].astype(str).unique().tolist()) for c in features.CATEGORICAL},
    )


def fit_forest(inputs: pd.DataFrame, seed: int) -> Pipeline:
    """Median imputation (the model's own) then an IsolationForest on the numeric inputs."""
    forest = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("forest", IsolationForest(n_estimators=N_ESTIMATORS, random_state=seed)),
        ]
    )
    return forest.fit(inputs[list(features.NUMERIC)].astype("float64").to_numpy())


@dataclass(frozen=True)
class Tree:
    """One isolation tree as arrays: `value` is a leaf's path length (depth + c(leaf size) - 1, root 1)."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    value: list[float]


@dataclass(frozen=True)
class Forest:
    """The fitted forest as plain arrays: scored with numpy, shipped as JSON (no pickle, no ONNX).

    skl2onnx converts an IsolationForest, but took ~50 s for 100 trees on this machine; the
    forest's arithmetic is a dozen lines, and the test holds it to scikit-learn's scores.
    """

    medians: list[float]
    normaliser: float  # c(max_samples), the average path length of an unsuccessful search
    trees: list[Tree]
    tree_features: list[list[int]]

    def scores(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """The anomaly score in (0, 1] per row, equal to -IsolationForest.score_samples."""
        matrix = np.column_stack([np.asarray(inputs[c], dtype=np.float64) for c in features.NUMERIC])
        matrix = np.where(np.isnan(matrix), np.asarray(self.medians), matrix).astype(np.float32)
        depth = np.zeros(len(matrix))
        for tree, columns in zip(self.trees, self.tree_features, strict=True):
            depth += _path_lengths(tree, matrix[:, columns])
        result: np.ndarray = 2.0 ** (-depth / (len(self.trees) * self.normaliser))
        return result


def _path_lengths(tree: Tree, matrix: np.ndarray) -> np.ndarray:
    left, right = np.asarray(tree.left), np.asarray(tree.right)
    feature, threshold = np.asarray(tree.feature), np.asarray(tree.threshold, dtype=np.float32)
    node = np.zeros(len(matrix), dtype=np.int64)
    rows = np.arange(len(matrix))
    while True:
        inner = left[node] != -1
        if not inner.any():
            return np.asarray(tree.value)[node]
        go_left = matrix[rows, np.maximum(feature[node], 0)] <= threshold[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)


def to_arrays(forest: Pipeline) -> Forest:
    """The fitted imputer + IsolationForest pipeline as a `Forest`."""
    from sklearn.ensemble._iforest import _average_path_length

    imputer, model = forest[0], forest[-1]
    trees = []
    for estimator in model.estimators_:
        t = estimator.tree_
        depth = np.asarray(t.compute_node_depths(), dtype=np.float64)  # the root is 1
        value = depth + _average_path_length(t.n_node_samples) - 1.0
        trees.append(
            Tree(
                t.children_left.tolist(),
                t.children_right.tolist(),
                t.feature.tolist(),
                t.threshold.tolist(),
                value.tolist(),
            )
        )
    return Forest(
        medians=[float(v) for v in imputer.statistics_],
        normaliser=float(_average_path_length([model.max_samples_])[0]),
        trees=trees,
        tree_features=[[int(i) for i in f] for f in model.estimators_features_],
    )


def anomaly_scores(forest: Pipeline, inputs: pd.DataFrame) -> np.ndarray:
    """The forest's anomaly score in (0, 1]: about 0.5 for ordinary rows, near 1 for outliers."""
    matrix = inputs[list(features.NUMERIC)].astype("float64").to_numpy()
    return np.asarray(-forest.score_samples(matrix), dtype=np.float64)


def threshold(training_scores: np.ndarray) -> float:
    return float(np.quantile(training_scores, FLAG_QUANTILE))


def flagged(scores: np.ndarray, outside: np.ndarray, limit: float) -> np.ndarray:
    """The decision: a score above the training quantile, or a value outside the envelope."""
    above: np.ndarray = np.asarray(scores, dtype=np.float64) > limit
    decided: np.ndarray = above | np.asarray(outside, dtype=bool)
    return decided


@dataclass(frozen=True)
class Sidecar:
    """What ships beside a model version for responsible-AI serving, as one hash-checked file.

    The detector's forest and threshold, the training envelope,
    and the background rows SHAP explanations are measured against.
    """

    forest: Forest
    threshold: float
    envelope: Envelope
    background: list[dict[str, float | str | None]]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Sidecar:
        raw = json.loads(text)
        forest = raw["forest"]
        trees = [Tree(**tree) for tree in forest["trees"]]
        return cls(
            **{**raw, "envelope": Envelope(**raw["envelope"]), "forest": Forest(**{**forest, "trees": trees})}
        )

    def background_frame(self) -> pd.DataFrame:
        return features.coerce_inputs(pd.DataFrame(self.background, columns=list(features.MODEL_INPUTS)))


def background_rows(inputs: pd.DataFrame, seed: int) -> list[dict[str, float | str | None]]:
    sample = inputs.sample(n=min(BACKGROUND_ROWS, len(inputs)), random_state=seed)
    return [
        {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in sample[list(features.MODEL_INPUTS)].to_dict(orient="records")
    ]
