"""Fairness of one model on one labelled set: fairlearn's per-group metrics for every attribute."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops.adapters import fairness as fairlearn_adapter
from titanic_mlops.domain import dataset, fairness
from titanic_mlops.domain.evaluation import predicted


def reports(inputs: pd.DataFrame, labels: np.ndarray, decided: np.ndarray) -> dict[str, fairness.GroupReport]:
    groups = fairness.sensitive_groups(inputs)
    return {
        name: fairlearn_adapter.group_report(np.asarray(labels), np.asarray(decided), groups[name])
        for name in fairness.ATTRIBUTES
    }


def model_reports(model: Any, frame: pd.DataFrame) -> dict[str, fairness.GroupReport]:
    """The fitted pipeline's decisions on a labelled frame (the gate's holdout), by group."""
    inputs, labels = dataset.inputs_and_labels(frame)
    return reports(inputs, labels, predicted(model.predict_proba(inputs)[:, 1]))


flat_metrics = fairness.flat_metrics


def model_card_section(reports: dict[str, fairness.GroupReport]) -> str:
    """The model card's fairness section: per attribute, the gaps, then one row per group."""
    lines = ["## Fairness on the holdout", "", fairness.MEANING, ""]
    for attribute, report in reports.items():
        lines += [
            f"### {attribute}",
            "",
            f"equalized-odds difference {report.equalized_odds_difference:.3f}, "
            f"demographic-parity difference {report.demographic_parity_difference:.3f}",
            "",
            "| group | accuracy | selection rate | TPR | FPR |",
            "| --- | --- | --- | --- | --- |",
        ]
        for group, m in report.by_group.items():
            cells = [m["accuracy"], m["selection_rate"], m["true_positive_rate"], m["false_positive_rate"]]
            lines.append(f"| {group} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
        lines.append("")
    return "\n".join(lines)
