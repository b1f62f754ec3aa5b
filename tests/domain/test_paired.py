"""Paired bootstrap intervals and McNemar's exact test against known answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from titanic_mlops.domain import paired


def scores(labels: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """P(survived) that decides right exactly where `correct` says."""
    right = np.where(labels == 1, 0.9, 0.1)
    return np.where(correct, right, 1.0 - right)


LABELS = np.array([0, 1] * 50)


def test_identical_models_differ_by_exactly_zero() -> None:
    p = scores(LABELS, np.arange(100) % 5 != 0)
    diff = paired.accuracy_difference(LABELS, p, p, 0.9)
    assert (diff.estimate, diff.low, diff.high) == (0.0, 0.0, 0.0)
    assert paired.mcnemar_exact(LABELS, p, p) == 1.0


def test_a_model_right_on_a_superset_never_looks_worse() -> None:
    better = scores(LABELS, np.arange(100) >= 10)
    worse = scores(LABELS, np.arange(100) >= 20)
    diff = paired.accuracy_difference(LABELS, better, worse, 0.9)
    assert diff.estimate == pytest.approx(0.1) and diff.low > 0.0
    auc = paired.auc_difference(LABELS, better, worse, 0.9)
    assert auc.low >= 0.0 and auc.estimate > 0.0


def test_mcnemar_matches_the_binomial_tail() -> None:
    """8 passengers only A gets right, 2 only B: p = 2 * P(X <= 2), X ~ Bin(10, 1/2) = 0.109375."""
    correct_a = np.array([True] * 8 + [False] * 2 + [True] * 20)
    correct_b = np.array([False] * 8 + [True] * 2 + [True] * 20)
    labels = np.ones(30, dtype=int)
    assert paired.mcnemar_exact(labels, scores(labels, correct_a), scores(labels, correct_b)) == 0.109375


def test_auc_interval_covers_the_point_and_handles_ties() -> None:
    rule = (np.arange(100) % 4 != 0).astype(float)  # a 0/1 rule: most pairs tie
    interval = paired.auc_interval(LABELS, rule, 0.95)
    assert interval.low <= interval.estimate <= interval.high
    assert interval.estimate == pytest.approx(roc_auc_score(LABELS, rule)) == pytest.approx(0.75)


def test_one_class_gives_a_clear_error() -> None:
    with pytest.raises(ValueError, match="both classes"):
        paired.auc_interval(np.ones(10, dtype=int), np.full(10, 0.7), 0.9)


def test_the_interval_narrows_as_rows_grow() -> None:
    small = paired.accuracy_interval(LABELS[:20], scores(LABELS[:20], np.arange(20) % 5 != 0), 0.9)
    large = paired.accuracy_interval(LABELS, scores(LABELS, np.arange(100) % 5 != 0), 0.9)
    assert (large.high - large.low) < (small.high - small.low)
