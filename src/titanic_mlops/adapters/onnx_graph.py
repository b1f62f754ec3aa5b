"""The ONNX adapter (onnx, skl2onnx, onnxruntime), the only module that imports them: the fitted
pipeline as an ONNX graph, and its runner; the outlier forest's trees as a graph that finds
each row's leaves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from titanic_mlops.domain import features
from titanic_mlops.domain.anomaly import Nodes

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
# A key no passenger has: a LabelEncoder needs at least one entry, a model without groups has none.
_NO_KEY = "\x00"


def _group_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    operator.outputs[0].type = FloatTensorType([operator.inputs[0].get_first_dimension(), 1])


def _group_convert(scope: Any, operator: Any, container: Any) -> None:
    """GroupSurvival as one LabelEncoder: the fitted table, key -> rate, unknown -> neutral."""
    from titanic_mlops.domain.group_survival import UNKNOWN_SURVIVAL

    table = operator.raw_operator.table() or {_NO_KEY: UNKNOWN_SURVIVAL}
    keys = sorted(table)
    container.add_node(
        "LabelEncoder",
        operator.inputs[0].full_name,
        operator.outputs[0].full_name,
        op_domain="ai.onnx.ml",
        op_version=2,
        name=scope.get_unique_operator_name("GroupSurvival"),
        keys_strings=keys,
        values_floats=[table[k] for k in keys],
        default_float=UNKNOWN_SURVIVAL,
    )


def _register() -> None:
    # The transformer is a scikit-learn estimator: imported here, on the conversion path only, so
    # the outlier graph (`LeafFinder`) loads without scikit-learn in serving and monitoring.
    from skl2onnx import update_registered_converter

    from titanic_mlops.domain.group_survival import GroupSurvival

    update_registered_converter(GroupSurvival, "TitanicMlopsGroupSurvival", _group_shape, _group_convert)


def to_onnx(pipeline: Any) -> bytes:
    """One graph input per model column: floats for numerics (ONNX Imputer takes no doubles)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [(c, FloatTensorType([None, 1])) for c in features.NUMERIC]
    inputs += [(c, StringTensorType([None, 1])) for c in features.CATEGORICAL + features.KEYS]
    _register()
    graph = convert_sklearn(
        pipeline,
        initial_types=inputs,
        target_opset=TARGET_OPSET,
        options={id(pipeline): {"zipmap": False}},
    )
    return bytes(graph.SerializeToString())


def _session(payload: bytes) -> Any:
    """One thread per session: serving runs one worker per core (docs/serving.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(payload, sess_options=options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """P(survived) from one array per model input, like the pipeline it was converted from.

    Serving builds no DataFrame per request: pandas costs ~1 ms for one row, the whole answer
    well under that.
    """

    def __init__(self, payload: bytes) -> None:
        self._session = _session(payload)
        self._probability_output = self._session.get_outputs()[1].name

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.run(self.feed(inputs))

    def feed(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's inputs: float32 columns, and the text columns as they come.

        Every path's text inputs are object arrays of str (`features.Columns`); onnxruntime
        reads them as they are, and casting them to numpy's str dtype first cost more than the
        graph itself on a large batch (108 ms against 90 ms for 200k rows).
        """
        feed = {c: np.asarray(inputs[c], dtype=np.float32).reshape(-1, 1) for c in features.NUMERIC}
        for c in features.CATEGORICAL + features.KEYS:
            feed[c] = np.asarray(inputs[c], dtype=object).reshape(-1, 1)
        return feed

    def run(self, feed: Mapping[str, np.ndarray]) -> np.ndarray:
        """The graph alone on a prepared feed (what the batch benchmark calls the floor)."""
        result = self._session.run([self._probability_output], dict(feed))[0]
        return np.asarray(result, dtype=np.float64)[:, 1]


class LeafFinder:
    """The leaf each row reaches in each tree of `Nodes`, by onnxruntime's tree ensemble.

    Each tree is one target of a TreeEnsembleRegressor whose leaves weigh their own index, so
    the output (rows x trees) is the leaf walk itself, exact in float32 (a tree has far fewer
    than 2**24 nodes); the score's float64 arithmetic stays in `domain.anomaly.Forest.scores`.
    A walk of 100 trees for one row took ~10 us here, against ~30 us as a numpy call per level.
    The splits are `x <= threshold` on float32, as scikit-learn's trees compare.
    """

    def __init__(self, nodes: Nodes) -> None:
        from onnx import TensorProto, helper

        leaf = nodes.left == -1
        tree = nodes.tree_of()
        local = np.arange(len(nodes.left)) - nodes.roots[tree]
        trees, columns = len(nodes.roots), int(nodes.feature.max(initial=0)) + 1
        ensemble = helper.make_node(
            "TreeEnsembleRegressor",
            ["X"],
            ["Y"],
            domain="ai.onnx.ml",
            n_targets=trees,
            aggregate_function="SUM",
            post_transform="NONE",
            nodes_treeids=tree.tolist(),
            nodes_nodeids=local.tolist(),
            nodes_featureids=nodes.feature.tolist(),
            nodes_values=np.where(leaf, 0.0, nodes.threshold).tolist(),
            nodes_modes=np.where(leaf, "LEAF", "BRANCH_LEQ").tolist(),
            nodes_truenodeids=np.where(leaf, 0, nodes.left).tolist(),
            nodes_falsenodeids=np.where(leaf, 0, nodes.right).tolist(),
            target_treeids=tree[leaf].tolist(),
            target_nodeids=local[leaf].tolist(),
            target_ids=tree[leaf].tolist(),
            target_weights=local[leaf].astype(np.float64).tolist(),
        )
        graph = helper.make_graph(
            [ensemble],
            "outlier-forest-leaves",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, columns])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, trees])],
        )
        opsets = [helper.make_opsetid("", TARGET_OPSET[""]), helper.make_opsetid("ai.onnx.ml", 3)]
        self._session = _session(helper.make_model(graph, opset_imports=opsets).SerializeToString())

    def leaves(self, matrix: np.ndarray) -> np.ndarray:
        """Rows x trees leaf indices (within each tree) for a float32 rows x columns matrix."""
        found: np.ndarray = self._session.run(None, {"X": np.ascontiguousarray(matrix, dtype=np.float32)})[0]
        return found
