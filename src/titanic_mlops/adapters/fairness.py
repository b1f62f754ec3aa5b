"""The fairlearn adapter, the only module that imports fairlearn: per-group metrics and the gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from titanic_mlops.domain.fairness import GroupReport


def group_report(labels: np.ndarray, predicted: np.ndarray, groups: pd.Series) -> GroupReport:
    """MetricFrame by group (accuracy, selection rate, TPR, FPR) and the two between-group gaps.

    A group with no positive (or no negative) label has no TPR (FPR): NaN, which fairlearn's
    gaps skip, as they should (nothing to compare).
    """
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    frame = MetricFrame(
        metrics={
            "accuracy": accuracy_score,
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        },
        y_true=labels,
        y_pred=predicted,
        sensitive_features=groups.astype(str).to_numpy(),
    )
    table = frame.by_group
    by_group = {str(group): {str(k): float(v) for k, v in row.items()} for group, row in table.iterrows()}
    return GroupReport(
        attribute=str(groups.name),
        by_group=by_group,
        demographic_parity_difference=float(
            demographic_parity_difference(labels, predicted, sensitive_features=groups.astype(str).to_numpy())
        ),
        equalized_odds_difference=float(
            equalized_odds_difference(labels, predicted, sensitive_features=groups.astype(str).to_numpy())
        ),
    )
