"""Behavioural tests of the champion: minimum functionality, invariance, direction, slices."""

from __future__ import annotations

import json

import pytest

from tests.model.conftest import Predict, passenger
from tests.support.workspace import Workspace


def test_minimum_functionality_first_class_woman_survives_third_class_man_does_not(
    predict: Predict,
) -> None:
    woman = passenger(
        Pclass=1, Name="Smith, Mrs. Jane", Sex="female", Age=35.0, Fare=80.0, Cabin="C85", Embarked="C"
    )
    man = passenger(Pclass=3, Name="Doe, Mr. John", Sex="male", Age=30.0, Fare=7.9)
    probability = predict([woman, man])
    assert probability[0] > 0.5
    assert probability[1] < 0.5


def test_invariance_to_first_names_and_ticket_numbers_nobody_shares(predict: Predict) -> None:
    base = passenger(Name="Doe, Mr. John", Ticket="NEW-1")
    renamed = passenger(Name="Doe, Mr. Jonathan Edward", Ticket="NEW-2")
    a, b = predict([base, renamed])
    assert a == pytest.approx(b, abs=1e-9)


@pytest.mark.parametrize("pclass", [1, 2, 3])
def test_direction_women_are_more_likely_to_survive_than_men(predict: Predict, pclass: int) -> None:
    man = passenger(Pclass=pclass)
    woman = passenger(Pclass=pclass, Sex="female", Name="Doe, Mrs. Jane")
    p_man, p_woman = predict([man, woman])
    assert p_woman > p_man


def test_direction_first_class_beats_third_class(predict: Predict) -> None:
    third = passenger(Pclass=3, Sex="female", Name="Doe, Miss. Ann", Fare=8.0)
    first = passenger(Pclass=1, Sex="female", Name="Doe, Miss. Ann", Fare=80.0, Cabin="B20")
    p_third, p_first = predict([third, first])
    assert p_first > p_third


def test_missing_age_fare_cabin_embarked_still_predict(predict: Predict) -> None:
    probability = predict([passenger(Age=None, Fare=None, Cabin=None, Embarked=None)])
    assert 0.0 <= probability[0] <= 1.0


def test_slices_clear_the_floor_in_the_recorded_evaluation(trained_workspace: Workspace) -> None:
    slices = json.loads(trained_workspace.path("reports/slices.json").read_text())["holdout"]
    assert {"sex=female", "sex=male", "pclass=1", "pclass=2", "pclass=3"} <= set(slices)
    for name, values in slices.items():
        assert values["accuracy"] >= 0.6, name


def test_the_champion_beats_the_women_survive_baseline(trained_workspace: Workspace) -> None:
    holdout = json.loads(trained_workspace.path("reports/metrics.json").read_text())["holdout"]
    assert holdout["overall"]["roc_auc"] > holdout["baseline"]["roc_auc"]
    assert holdout["overall"]["accuracy"] >= holdout["baseline"]["accuracy"]
