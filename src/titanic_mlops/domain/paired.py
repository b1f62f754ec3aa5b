"""Intervals for the gate: paired bootstrap of metric differences and McNemar's exact test.

Both models are scored on the SAME passengers, so their errors are correlated; resampling the
passengers once per bootstrap draw and scoring both models on that draw keeps the pairing (a
difference interval far narrower than two separate intervals). Pure numpy, seeded: the same
inputs give the same interval on every machine.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict

from titanic_mlops.domain.schema import THRESHOLD

# The level of the intervals reported with metrics (training, model card); the gate's own level
# is params.yaml promote.confidence.
REPORT_CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20261202


class Interval(BaseModel):
    """A point estimate and its percentile-bootstrap interval at `confidence`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    estimate: float
    low: float
    high: float
    confidence: float


def accuracy_difference(
    labels: np.ndarray, a: np.ndarray, b: np.ndarray, confidence: float, resamples: int = RESAMPLES
) -> Interval:
    """accuracy(a) - accuracy(b) at the serving threshold, paired over the same passengers."""
    weights = _weights(len(labels), resamples)
    diff = _correct(labels, a) - _correct(labels, b)
    return _interval(float(diff.mean()), weights @ diff / len(labels), confidence)


def auc_difference(
    labels: np.ndarray, a: np.ndarray, b: np.ndarray, confidence: float, resamples: int = RESAMPLES
) -> Interval:
    """ROC AUC(a) - ROC AUC(b), paired; draws without both classes are dropped."""
    weights = _weights(len(labels), resamples)
    return _interval(
        _auc_point(labels, a) - _auc_point(labels, b),
        _auc_draws(labels, a, weights) - _auc_draws(labels, b, weights),
        confidence,
    )


def accuracy_interval(
    labels: np.ndarray, probability: np.ndarray, confidence: float, resamples: int = RESAMPLES
) -> Interval:
    weights = _weights(len(labels), resamples)
    correct = _correct(labels, probability)
    return _interval(float(correct.mean()), weights @ correct / len(labels), confidence)


def auc_interval(
    labels: np.ndarray, probability: np.ndarray, confidence: float, resamples: int = RESAMPLES
) -> Interval:
    weights = _weights(len(labels), resamples)
    return _interval(_auc_point(labels, probability), _auc_draws(labels, probability, weights), confidence)


def mcnemar_exact(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: only passengers the models disagree on carry evidence."""
    correct_a, correct_b = _correct(labels, a) > 0, _correct(labels, b) > 0
    only_a = int(np.count_nonzero(correct_a & ~correct_b))
    only_b = int(np.count_nonzero(~correct_a & correct_b))
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2.0**n
    return round(min(1.0, 2.0 * tail), 6)


def _correct(labels: np.ndarray, probability: np.ndarray) -> np.ndarray:
    decided = (np.asarray(probability) >= THRESHOLD).astype(int)
    correct: np.ndarray = (decided == np.asarray(labels).astype(int)).astype(np.float64)
    return correct


def _weights(n: int, resamples: int) -> np.ndarray:
    """How often each passenger is drawn, per bootstrap draw (resamples x n); seeded, so the two
    models of a comparison (and every call with the same n) see the same draws."""
    if n == 0:
        raise ValueError("an interval needs at least one labelled row")
    rng = np.random.default_rng(SEED)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)


def _pairs(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positive x negative comparison matrix (1 ahead, 0.5 tied, 0 behind) and the class masks."""
    positive = np.asarray(labels).astype(int) == 1
    s = np.asarray(scores, dtype=np.float64)
    ahead = s[positive][:, None] - s[~positive][None, :]
    return (ahead > 0) + 0.5 * (ahead == 0), positive, ~positive


def _auc_point(labels: np.ndarray, scores: np.ndarray) -> float:
    matrix, positive, negative = _pairs(labels, scores)
    if not positive.any() or not negative.any():
        return math.nan
    return float(matrix.mean())


def _auc_draws(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC of every draw: the weighted share of positive-negative pairs ranked right."""
    matrix, positive, negative = _pairs(labels, scores)
    w_pos, w_neg = weights[:, positive], weights[:, negative]
    pairs = w_pos.sum(axis=1) * w_neg.sum(axis=1)
    ranked = np.einsum("bi,ij,bj->b", w_pos, matrix, w_neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, ranked / pairs, np.nan)


def _interval(estimate: float, draws: np.ndarray, confidence: float) -> Interval:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    finite = draws[np.isfinite(draws)]
    if math.isnan(estimate) or not len(finite):
        raise ValueError("an interval needs both classes among the labelled rows")
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Interval(
        estimate=round(estimate, 6),
        low=round(float(low), 6),
        high=round(float(high), 6),
        confidence=confidence,
    )
