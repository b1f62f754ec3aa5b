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
from functools import cached_property

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
        with np.errstate(invalid="ignore"):
            for name in features.NUMERIC:
                values = np.asarray(inputs[name], dtype=np.float64)
                out |= (values < self.low[name]) | (values > self.high[name])
        for name, seen in self._seen.items():
            out |= np.fromiter((str(v) not in seen for v in inputs[name]), dtype=bool, count=rows)
        return out

    @cached_property
    def _seen(self) -> dict[str, frozenset[str]]:
        """Set lookups: np.isin (a sort per call) cost ~0.1 ms per input for a one-row request."""
        return {name: frozenset(self.levels[name]) for name in features.CATEGORICAL}


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
        packed = self._packed
        depth = np.concatenate(
            [packed.path_lengths(matrix[start : start + _CHUNK]) for start in range(0, len(matrix), _CHUNK)]
            or [np.zeros(0)]
        )
        result: np.ndarray = 2.0 ** (-depth / (len(self.trees) * self.normaliser))
        return result

    @cached_property
    def _packed(self) -> _Packed:
        return _Packed.of(self.trees, self.tree_features)


# Rows walked at once: rows x trees node indices (8 MB at 10k rows and 100 trees).
_CHUNK = 10_000


@dataclass(frozen=True)
class _Packed:
    """Every tree's nodes in one table, walked for all trees at once.

    Walking tree by tree from the JSON lists cost ~20 ms per request (100 trees, each list made
    an array again, a numpy call per level); here a level of every tree is one numpy call. A
    leaf's children are the leaf itself, so a walk of the deepest tree's depth ends on every
    tree's leaf. Columns are the model's numeric inputs: each tree's own column order is mapped.
    """

    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    levels: int

    @classmethod
    def of(cls, trees: list[Tree], tree_features: list[list[int]]) -> _Packed:
        roots, left, right, feature, threshold, value, levels = [], [], [], [], [], [], 0
        offset = 0
        for tree, columns in zip(trees, tree_features, strict=True):
            nodes = np.arange(len(tree.left))
            leaf = np.asarray(tree.left) == -1
            roots.append(offset)
            left.append(np.where(leaf, nodes, tree.left) + offset)
            right.append(np.where(leaf, nodes, tree.right) + offset)
            feature.append(np.where(leaf, 0, np.asarray(columns)[np.maximum(tree.feature, 0)]))
            threshold.append(np.asarray(tree.threshold, dtype=np.float32))
            value.append(np.asarray(tree.value, dtype=np.float64))
            levels = max(levels, _depth(tree))
            offset += len(nodes)
        join = np.concatenate
        return cls(
            np.asarray(roots), join(left), join(right), join(feature), join(threshold), join(value), levels
        )

    def path_lengths(self, matrix: np.ndarray) -> np.ndarray:
        """The summed path length over the trees, per row."""
        node = np.broadcast_to(self.roots, (len(matrix), len(self.roots)))
        rows = np.arange(len(matrix))[:, None]
        for _ in range(self.levels):
            go_left = matrix[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        total: np.ndarray = self.value[node].sum(axis=1)
        return total


def _depth(tree: Tree) -> int:
    """Edges from the root to the deepest leaf."""
    deepest, frontier = 0, [0]
    while True:
        frontier = [c for n in frontier if tree.left[n] != -1 for c in (tree.left[n], tree.right[n])]
        if not frontier:
            return deepest
        deepest += 1


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
