"""The promotion policy: a pure decision from both models' scores on the same passengers.

Every check that compares two numbers measured on a sample is a statement about an interval:
"beats the baseline" means the lower bound of the paired interval of the difference is above 0,
"non-inferior" means it is above minus the margin (at `promote.confidence`, two-sided, so each
is a one-sided test at half the remainder). Floors stay point checks, reported with their
interval. docs/pipeline.md has the power table: what these checks can tell at our sample sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from titanic_mlops.domain import evaluation, paired
from titanic_mlops.domain.gate_checks import GateCheck, GateDecision
from titanic_mlops.domain.metrics import EvaluationReport
from titanic_mlops.domain.params import PromoteParams


@dataclass(frozen=True)
class Comparison:
    """One labelled evaluation set scored by both models (champion absent for the first model)."""

    name: str
    inputs: pd.DataFrame
    labels: np.ndarray
    challenger: np.ndarray
    champion: np.ndarray | None
    challenger_report: EvaluationReport
    champion_report: EvaluationReport | None

    @property
    def two_classes(self) -> bool:
        return len(np.unique(self.labels)) == 2


def compare(
    name: str, inputs: pd.DataFrame, labels: np.ndarray, challenger: np.ndarray, champion: np.ndarray | None
) -> Comparison:
    """A comparison with both models' reports (overall, slices, baseline) computed once."""
    return Comparison(
        name,
        inputs,
        np.asarray(labels),
        np.asarray(challenger),
        None if champion is None else np.asarray(champion),
        evaluation.report(inputs, labels, challenger),
        None if champion is None else evaluation.report(inputs, labels, champion),
    )


def decide(primary: Comparison, others: list[Comparison], policy: PromoteParams) -> GateDecision:
    """Floors, the baseline and slices on the frozen holdout; non-inferiority on every set."""
    checks = floor_checks(primary, policy)
    if policy.beat_baseline:
        checks += baseline_checks(primary, policy)
    for name, metrics in primary.challenger_report.slices.items():
        if metrics.rows >= policy.slice_min_rows:
            checks.append(
                GateCheck(
                    check=f"slice:{name}",
                    passed=metrics.accuracy >= policy.slice_min_accuracy,
                    detail=f"{name} accuracy {metrics.accuracy:.4f} vs floor {policy.slice_min_accuracy:.4f}",
                    estimate=metrics.accuracy,
                )
            )
    for comparison in [primary, *others]:
        checks += non_inferiority_checks(comparison, policy)
    return GateDecision(promote=all(c.passed for c in checks), checks=checks)


def floor_checks(primary: Comparison, policy: PromoteParams) -> list[GateCheck]:
    """The absolute floors, judged on the point estimate and reported with its interval."""
    level, labels, p = policy.confidence, primary.labels, primary.challenger
    accuracy = paired.accuracy_interval(labels, p, level, policy.bootstrap_resamples)
    checks = [_floor("min_accuracy", "accuracy", accuracy, policy.min_accuracy)]
    if primary.two_classes:
        auc = paired.auc_interval(labels, p, level, policy.bootstrap_resamples)
        checks.append(_floor("min_roc_auc", "roc_auc", auc, policy.min_roc_auc))
    return checks


def baseline_checks(primary: Comparison, policy: PromoteParams) -> list[GateCheck]:
    """Beats women-survive: the paired interval of each difference lies above zero."""
    baseline = evaluation.women_survive_baseline(primary.inputs)
    level, n = policy.confidence, policy.bootstrap_resamples
    accuracy = paired.accuracy_difference(primary.labels, primary.challenger, baseline, level, n)
    p_value = paired.mcnemar_exact(primary.labels, primary.challenger, baseline)
    checks = [_above("beat_baseline", "accuracy", "the women-survive baseline", accuracy, 0.0, p_value)]
    if primary.two_classes:
        auc = paired.auc_difference(primary.labels, primary.challenger, baseline, level, n)
        checks.append(_above("beat_baseline_roc_auc", "roc_auc", "the women-survive baseline", auc, 0.0))
    return checks


def non_inferiority_checks(comparison: Comparison, policy: PromoteParams) -> list[GateCheck]:
    """Not worse than the champion by more than the margin: the interval's low end says so."""
    if comparison.champion is None:
        return []
    level, n, margin = policy.confidence, policy.bootstrap_resamples, -policy.non_inferiority_margin
    labels, new, old = comparison.labels, comparison.challenger, comparison.champion
    checks: list[GateCheck] = []
    if comparison.two_classes:
        auc = paired.auc_difference(labels, new, old, level, n)
        checks.append(
            _above(
                f"non_inferior:{comparison.name}", f"{comparison.name} roc_auc", "the champion", auc, margin
            )
        )
    accuracy = paired.accuracy_difference(labels, new, old, level, n)
    p_value = paired.mcnemar_exact(labels, new, old)
    checks.append(
        _above(
            f"non_inferior_accuracy:{comparison.name}",
            f"{comparison.name} accuracy",
            "the champion",
            accuracy,
            margin,
            p_value,
        )
    )
    return checks


def _floor(check: str, metric: str, interval: paired.Interval, floor: float) -> GateCheck:
    return GateCheck(
        check=check,
        passed=interval.estimate >= floor,
        detail=f"{metric} {interval.estimate:.4f} {_ci(interval)} vs floor {floor:.4f}",
        **_fields(interval),
    )


def _above(
    check: str, metric: str, other: str, diff: paired.Interval, bound: float, p_value: float | None = None
) -> GateCheck:
    mcnemar = "" if p_value is None else f", McNemar p={p_value:.4g}"
    return GateCheck(
        check=check,
        passed=diff.low > bound if bound == 0.0 else diff.low >= bound,
        detail=f"{metric} difference vs {other} {diff.estimate:+.4f} {_ci(diff)} "
        f"(low end must be {'above' if bound == 0.0 else 'at least'} {bound:+.4f}{mcnemar})",
        p_value=p_value,
        **_fields(diff),
    )


def _fields(interval: paired.Interval) -> dict[str, float]:
    return interval.model_dump()


def _ci(interval: paired.Interval) -> str:
    return f"[{interval.low:.4f}, {interval.high:.4f}] at {interval.confidence:.0%}"
