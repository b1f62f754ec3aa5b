"""The woman-child group's survival, learned from training labels inside the fitted pipeline.

A label-derived feature leaks unless it is computed without the passenger's own label and only
from the rows the model is fitted on. This transformer does both: `fit_transform` (what a
Pipeline calls on its training rows, in every cross-validation fold too) gives each passenger the
survival of the OTHER members of its group (leave-one-out); `transform` (validation folds, the
holdout, serving) gives the survival of the group's training members. The table travels inside
the registered model, so a version's inputs never change after it is fitted, and the ONNX graph
carries the same table (adapters/onnx_graph.py converts it to a LabelEncoder lookup).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from titanic_mlops.domain.features import NO_GROUP

# The value of a passenger with no labelled group member: the group tells nothing.
UNKNOWN_SURVIVAL = 0.0


class GroupSurvival(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """One key column in, one column out: the group's survival rate minus one half (0 = unknown).

    Centring on one half makes "no group member seen" (0.0) the neutral value between "every
    member died" (-0.5) and "every member lived" (+0.5), which a linear model reads directly.
    """

    def fit(self, x: Any, y: Any) -> GroupSurvival:
        keys, labels = _keys(x), np.asarray(y, dtype=np.float64)
        if len(keys) != len(labels):
            raise ValueError(f"GroupSurvival: {len(keys)} keys but {len(labels)} labels")
        grouped = keys != NO_GROUP
        distinct, inverse = np.unique(keys[grouped], return_inverse=True)
        sums = np.bincount(inverse, weights=labels[grouped], minlength=len(distinct))
        counts = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
        self.survived_ = {str(k): float(s) for k, s in zip(distinct, sums, strict=True)}
        self.members_ = {str(k): float(c) for k, c in zip(distinct, counts, strict=True)}
        return self

    def fit_transform(self, x: Any, y: Any = None, **_: Any) -> np.ndarray:
        """Fit, then leave each training passenger's own label out of its group's rate."""
        if y is None:
            raise ValueError("GroupSurvival needs the labels to fit")
        self.fit(x, y)
        labels = np.asarray(y, dtype=np.float64)
        out = np.full(len(labels), UNKNOWN_SURVIVAL)
        for i, key in enumerate(_keys(x)):
            others = self.members_.get(key, 0.0) - 1.0
            if key != NO_GROUP and others > 0:
                out[i] = (self.survived_[key] - labels[i]) / others - 0.5
        return out.reshape(-1, 1)

    def transform(self, x: Any) -> np.ndarray:
        table = self.table()
        return np.array([table.get(k, UNKNOWN_SURVIVAL) for k in _keys(x)]).reshape(-1, 1)

    def table(self) -> dict[str, float]:
        """Key -> centred survival rate of the group's training members (what serving looks up)."""
        return {k: self.survived_[k] / n - 0.5 for k, n in self.members_.items()}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["group_survival"], dtype=object)


def _keys(x: Any) -> np.ndarray:
    values = x.to_numpy() if hasattr(x, "to_numpy") else np.asarray(x, dtype=object)
    return np.asarray(values, dtype=object).reshape(len(values), -1)[:, 0].astype(str)
