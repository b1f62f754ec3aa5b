"""Fairness by group and the gate's fairness checks: a much less fair challenger is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from tests.support.rai import fitted, snapshot
from titanic_mlops.domain import fairness, fairness_gate
from titanic_mlops.domain.gate_checks import GateDecision
from titanic_mlops.domain.params import FairnessParams
from titanic_mlops.services import fairness as fairness_service

POLICY = FairnessParams(
    attributes=["sex", "pclass", "age_band"],
    max_equalized_odds_difference=0.9,
    max_equalized_odds_increase=0.15,
)


class FirstClassSurvives(ClassifierMixin, BaseEstimator):
    """A challenger much less fair by class: P(survived) 0.9 in first class, 0.1 elsewhere."""

    def fit(self, inputs: pd.DataFrame, labels: np.ndarray) -> FirstClassSurvives:
        return self

    def predict_proba(self, inputs: pd.DataFrame) -> np.ndarray:
        p = np.where(inputs["pclass"].to_numpy() == 1, 0.9, 0.1)
        return np.column_stack([1 - p, p])


def reports(model: object) -> dict[str, fairness.GroupReport]:
    inputs, labels = snapshot()
    decided = (np.asarray(model.predict_proba(inputs))[:, 1] >= 0.5).astype(int)  # type: ignore[attr-defined]
    return fairness_service.reports(inputs, labels, decided)


def test_the_reports_carry_every_group_and_both_gaps() -> None:
    found = reports(fitted("logistic_regression"))
    assert set(found) == {"sex", "pclass", "age_band"}
    assert set(found["sex"].by_group) == {"female", "male"}
    assert set(found["pclass"].by_group) == {"1", "2", "3"}
    assert {"child", "adult", "senior"} <= set(found["age_band"].by_group)
    female = found["sex"].by_group["female"]
    assert set(female) == {"accuracy", "selection_rate", "true_positive_rate", "false_positive_rate"}
    # survival differs by sex: an accurate model's gaps by sex are large, and it says so
    assert found["sex"].equalized_odds_difference > 0.3
    metrics = fairness.flat_metrics(found)
    assert metrics["fairness.sex.equalized_odds_difference"] == found["sex"].equalized_odds_difference
    assert "fairness.pclass.3.true_positive_rate" in metrics


def test_a_much_less_fair_challenger_is_refused_with_the_checks_name() -> None:
    champion = reports(fitted("logistic_regression"))
    challenger = reports(FirstClassSurvives())
    checks = fairness_gate.gate_checks(challenger, champion, POLICY)
    decision = fairness_gate.with_checks(GateDecision(promote=True, checks=[]), checks)
    assert not decision.promote
    failed = {c.check for c in checks if not c.passed}
    assert "fairness:not_less_fair:pclass" in failed
    assert "fairness:not_less_fair:pclass" in decision.reason


def test_the_champion_against_itself_passes() -> None:
    champion = reports(fitted("gradient_boosting"))
    checks = fairness_gate.gate_checks(champion, champion, POLICY)
    assert all(c.passed for c in checks), [c.detail for c in checks if not c.passed]
    assert len(checks) == 6


def test_without_a_champion_only_the_ceiling_applies() -> None:
    checks = fairness_gate.gate_checks(reports(FirstClassSurvives()), None, POLICY)
    assert [c.check for c in checks] == [f"fairness:ceiling:{a}" for a in POLICY.attributes]


@pytest.mark.parametrize(
    ("age", "band"), [(0.5, "child"), (15.9, "child"), (16.0, "adult"), (60.0, "senior"), (np.nan, "unknown")]
)
def test_age_bands(age: float, band: str) -> None:
    assert fairness.age_band(np.array([age])).tolist() == [band]
