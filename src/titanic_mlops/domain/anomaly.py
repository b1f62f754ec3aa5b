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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from titanic_mlops.domain import features

if TYPE_CHECKING:
    # Only fitting needs scikit-learn (1.2-1.5 s to import). Scoring, the sidecar and the
    # monitoring cycle's process (one per scheduled run) stay without it.
    from sklearn.pipeline import Pipeline

FLAG_QUANTILE = 0.99  # ~1% of training-like passengers are flagged by the forest
N_ESTIMATORS = 100
BACKGROUND_ROWS = 100  # the training sample SHAP explanations are measured against


def numeric_matrix(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """The numeric model inputs as one float64 matrix (rows x `features.NUMERIC`), gaps NaN.

    Built once per scoring and read by both tests, the envelope and the forest.
    """
    return np.column_stack([np.asarray(inputs[c], dtype=np.float64) for c in features.NUMERIC])


@dataclass(frozen=True)
class Envelope:
    """What training saw: numeric min/max, and the categories per categorical input."""

    low: dict[str, float]
    high: dict[str, float]
    levels: dict[str, list[str]]

    def outside(self, inputs: Mapping[str, np.ndarray], numeric: np.ndarray | None = None) -> np.ndarray:
        """True per row where a numeric input leaves [min, max] or a category was never seen.

        A gap (NaN) is no anomaly: the imputer fills it, as training did. `numeric` is
        `numeric_matrix(inputs)` when the caller has it already.
        """
        matrix = numeric_matrix(inputs) if numeric is None else numeric
        low, high = self._bounds
        with np.errstate(invalid="ignore"):
            out = np.asarray(((matrix < low) | (matrix > high)).any(axis=1))
        for name, seen in self._seen.items():
            out |= np.fromiter((str(v) not in seen for v in inputs[name]), dtype=bool, count=len(out))
        return out

    @cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """All numeric columns compared in one call: a call per column cost ~15 us for one row."""
        return (
            np.array([self.low[c] for c in features.NUMERIC], dtype=np.float64),
            np.array([self.high[c] for c in features.NUMERIC], dtype=np.float64),
        )

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
    from sklearn.ensemble import IsolationForest
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

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
    """The fitted forest as plain arrays: shipped as JSON (no pickle), scored from its leaves.

    Which leaf a row reaches in each tree is the tree walk, which onnxruntime runs for all trees
    at once from these arrays (`adapters.onnx_graph.LeafFinder`); the score is the arithmetic on
    the leaves, here. skl2onnx converts an IsolationForest too, but took ~50 s for 100 trees on
    this machine; the test holds the scores to scikit-learn's.
    """

    medians: list[float]
    normaliser: float  # c(max_samples), the average path length of an unsuccessful search
    trees: list[Tree]
    tree_features: list[list[int]]

    def imputed(self, numeric: np.ndarray) -> np.ndarray:
        """`numeric_matrix` with gaps at the training medians, as float32: the trees' input."""
        filled: np.ndarray = np.where(np.isnan(numeric), np.asarray(self.medians), numeric)
        return filled.astype(np.float32)

    def scores(self, leaves: np.ndarray) -> np.ndarray:
        """The anomaly score in (0, 1] per row, equal to -IsolationForest.score_samples.

        `leaves` (rows x trees) is the index of the leaf each row reaches in each tree.
        """
        nodes = self.nodes
        depth = nodes.value[nodes.roots + leaves.astype(np.int64)].sum(axis=1)
        result: np.ndarray = 2.0 ** (-depth / (len(self.trees) * self.normaliser))
        return result

    @cached_property
    def nodes(self) -> Nodes:
        return Nodes.of(self.trees, self.tree_features)


@dataclass(frozen=True)
class Nodes:
    """Every tree's nodes in one table; a tree's node `i` is row `roots[tree] + i`.

    `left`/`right` are a node's children within its tree (-1 at a leaf); `feature` is a column
    of `numeric_matrix` (each tree's own column order mapped); `value` is a leaf's path length.
    """

    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, trees: list[Tree], tree_features: list[list[int]]) -> Nodes:
        sizes = [len(tree.left) for tree in trees]
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        feature = [
            np.where(np.asarray(t.left) == -1, 0, np.asarray(cols)[np.maximum(t.feature, 0)])
            for t, cols in zip(trees, tree_features, strict=True)
        ]
        join = np.concatenate
        return cls(
            roots=roots,
            left=join([np.asarray(t.left, dtype=np.int64) for t in trees]),
            right=join([np.asarray(t.right, dtype=np.int64) for t in trees]),
            feature=join(feature).astype(np.int64),
            threshold=join([np.asarray(t.threshold, dtype=np.float32) for t in trees]),
            value=join([np.asarray(t.value, dtype=np.float64) for t in trees]),
        )

    def tree_of(self) -> np.ndarray:
        """The tree each node belongs to."""
        sizes = np.diff(np.append(self.roots, len(self.left)))
        return np.repeat(np.arange(len(self.roots)), sizes)


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
