"""The evaluation's reports are the same bytes on every machine that trains the same model."""

from __future__ import annotations

import numpy as np

from titanic_mlops.domain import evaluation


def test_roc_points_do_not_change_with_last_bit_differences_in_the_probabilities() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    probability = rng.random(200)
    # What another CPU's BLAS kernels give: the same probabilities, a few ulps apart.
    other = probability * (1 + 4 * np.finfo(float).eps)
    here = evaluation.roc_points(labels, probability)
    there = evaluation.roc_points(labels, other)
    assert not np.array_equal(probability, other)
    assert here.to_csv(index=False) == there.to_csv(index=False)
