"""Scenarios as data and the deterministic traffic drawn from them."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.workspace import RAW_TRAIN
from titanic_mlops.domain import scenarios, traffic
from titanic_mlops.services.ingest import read_raw_csv


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    return read_raw_csv(RAW_TRAIN, labelled=True)


def test_same_seed_same_traffic_and_a_fresh_id_block(snapshot: pd.DataFrame) -> None:
    first = traffic.draw(snapshot, scenarios.get("none"), 50, seed=3)
    again = traffic.draw(snapshot, scenarios.get("none"), 50, seed=3)
    other = traffic.draw(snapshot, scenarios.get("none"), 50, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first.drop(columns="PassengerId").equals(other.drop(columns="PassengerId"))
    assert first["PassengerId"].tolist() == list(range(400_000, 400_050))
    assert not set(first["PassengerId"]) & set(snapshot["PassengerId"])


def test_covariate_changes_who_travels_not_the_labels(snapshot: pd.DataFrame) -> None:
    drawn = traffic.draw(snapshot, scenarios.get("covariate"), 2000, seed=0)
    assert (drawn["Pclass"] == 3).mean() > (snapshot["Pclass"] == 3).mean() + 0.1
    assert (drawn["Embarked"] == "Q").mean() > 0.3
    assert drawn["Survived"].isin([0, 1]).all()


def test_concept_moves_men_into_the_silver_region_where_all_survive(snapshot: pd.DataFrame) -> None:
    drawn = traffic.draw(snapshot, scenarios.get("concept"), 1000, seed=0)
    region = drawn[drawn["Age"] >= 81]
    assert 0.35 < len(region) / len(drawn) < 0.55
    assert (region["Sex"] == "male").all() and (region["Survived"] == 1).all()
    assert region["Pclass"].isin([2, 3]).all()
    assert region["Age"].max() < 95 and snapshot["Age"].max() < 81


def test_records_carry_no_label_and_null_for_gaps(snapshot: pd.DataFrame) -> None:
    rows = traffic.records(traffic.draw(snapshot, scenarios.get("none"), 200, seed=1))
    assert all("Survived" not in row for row in rows)
    assert any(row["Cabin"] is None for row in rows) and any(row["Age"] is None for row in rows)
    assert all(isinstance(row["Pclass"], int) for row in rows)


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="none, covariate, concept"):
        scenarios.get("tsunami")


def test_every_scenario_is_valid_data() -> None:
    for name in scenarios.names():
        assert scenarios.get(name).description
