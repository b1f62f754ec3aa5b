"""The outlier detector: the concept scenario's old men are flagged, snapshot passengers rarely."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from tests.support.rai import inputs_of, snapshot
from titanic_mlops.adapters.onnx_graph import LeafFinder
from titanic_mlops.domain import anomaly, features
from titanic_mlops.services.anomaly import CHUNK, Detector, build_sidecar, flag_rate


@cache
def detector() -> Detector:
    inputs, _ = snapshot()
    # through JSON, as serving reads it back from the version's sidecar
    return Detector(anomaly.Sidecar.from_json(build_sidecar(inputs, seed=42).to_json()))


def columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy() for c in features.MODEL_INPUTS}


def test_the_concept_scenarios_old_third_class_men_are_anomalous() -> None:
    old = pd.concat([inputs_of(pclass=p, age=a) for p in (2, 3) for a in (81.0, 88.0, 90.0, 95.0)])
    flags = detector().flags(columns(old))
    assert flags.anomalous.all(), flags.score


def test_snapshot_passengers_are_rarely_anomalous() -> None:
    inputs, _ = snapshot()
    rate = flag_rate(detector(), inputs)
    assert 0.0 < rate <= 0.03, rate  # measured 0.34% on the 891 (2.2% on the unseen holdout)


def test_the_shipped_arrays_score_like_scikit_learns_forest() -> None:
    inputs, _ = snapshot()
    forest = anomaly.fit_forest(inputs, seed=42)
    expected = anomaly.anomaly_scores(forest, inputs)
    np.testing.assert_allclose(detector().flags(columns(inputs)).score, expected, atol=1e-5)


def test_an_unseen_category_or_value_leaves_the_envelope_and_a_gap_does_not() -> None:
    envelope = detector().sidecar.envelope
    rows = pd.concat(
        [inputs_of(), inputs_of(deck="Z"), inputs_of(fare=10_000.0), inputs_of(age=float("nan"))]
    )
    assert envelope.outside(columns(rows)).tolist() == [False, True, True, False]


def test_flagged_is_a_score_above_the_threshold_or_outside() -> None:
    decided = anomaly.flagged(np.array([0.4, 0.8, 0.4]), np.array([False, False, True]), limit=0.6)
    assert decided.tolist() == [False, True, True]


def test_scores_do_not_depend_on_how_many_rows_are_scored_at_once() -> None:
    """Rows are scored in chunks (services/anomaly.py `CHUNK`): across a chunk's edge, alone and
    with no rows at all, each row's score is its own."""
    inputs, _ = snapshot()
    many = pd.concat([inputs] * (CHUNK // len(inputs) + 2), ignore_index=True)
    assert len(many) > CHUNK
    together = detector().flags(columns(many)).score
    alone = np.concatenate([detector().flags(columns(inputs.iloc[[i]])).score for i in range(5)])
    np.testing.assert_allclose(together[:5], alone, rtol=0, atol=1e-12)
    np.testing.assert_allclose(together[-len(inputs) :], together[: len(inputs)], rtol=0, atol=1e-12)
    assert detector().flags(columns(inputs.iloc[:0])).score.shape == (0,)


def test_the_leaves_onnxruntime_finds_are_scikit_learns() -> None:
    """The walk itself, exactly: each row's leaf in each tree is the one `apply` names."""
    inputs, _ = snapshot()
    fitted = anomaly.fit_forest(inputs, seed=42)
    forest = anomaly.to_arrays(fitted)
    numeric = anomaly.numeric_matrix(columns(inputs))
    leaves = LeafFinder(forest.nodes).leaves(forest.imputed(numeric))
    filled = fitted[0].transform(numeric)
    model = fitted[-1]
    expected = np.column_stack(
        [
            tree.apply(filled[:, cols].astype(np.float32))
            for tree, cols in zip(model.estimators_, model.estimators_features_, strict=True)
        ]
    )
    assert leaves.shape == (len(inputs), len(model.estimators_))
    np.testing.assert_array_equal(leaves.astype(np.int64), expected)
