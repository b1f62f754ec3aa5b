"""Row and population features on tiny frames."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tests.samples import BRAUND
from titanic_mlops import features


def raw(**overrides: object) -> pd.DataFrame:
    row: dict[str, object] = {**BRAUND}
    row.update(overrides)
    return pd.DataFrame([row])


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Braund, Mr. Owen Harris", "Mr"),
        ("Cumings, Mrs. John Bradley (Florence Briggs Thayer)", "Mrs"),
        ("Heikkinen, Miss. Laina", "Miss"),
        ("Palsson, Master. Gosta Leonard", "Master"),
        ("Aubart, Mme. Leontine Pauline", "Mrs"),
        ("Reynaldo, Ms. Encarnacion", "Miss"),
        ("Byles, Rev. Thomas Roussel Davids", "Rare"),
        ("Rothes, the Countess. of (Lucy Noel Martha Dyer-Edwards)", "Rare"),
        ("No title at all", "U"),
        (None, "U"),
    ],
)
def test_extract_title_maps_aliases_and_rare_titles(name: str | None, title: str) -> None:
    assert features.extract_title(name) == title


@pytest.mark.parametrize(
    ("cabin", "deck"), [("C85", "C"), ("B57 B59 B63 B66", "B"), (None, "U"), ("", "U"), (" e1", "E")]
)
def test_extract_deck_takes_the_first_cabin_letter(cabin: str | None, deck: str) -> None:
    assert features.extract_deck(cabin) == deck


def test_row_features_derive_family_and_cabin_flags() -> None:
    rows = features.add_row_features(raw(SibSp=1, Parch=2, Cabin="C85"))
    assert rows.loc[0, "family_size"] == 4
    assert rows.loc[0, "is_alone"] == 0
    assert rows.loc[0, "has_cabin"] == 1
    assert rows.loc[0, "deck"] == "C"


def test_row_features_mark_a_lone_traveller_without_cabin() -> None:
    rows = features.add_row_features(raw(SibSp=0, Parch=0))
    assert rows.loc[0, "is_alone"] == 1
    assert rows.loc[0, "has_cabin"] == 0
    assert rows.loc[0, "deck"] == "U"


def test_missing_embarked_becomes_unknown_category() -> None:
    assert features.add_row_features(raw(Embarked=None)).loc[0, "embarked"] == "U"


def test_ticket_group_size_counts_passengers_sharing_a_ticket() -> None:
    tickets = pd.Series(["A", "B", "A", "A"])
    sizes = features.ticket_group_sizes(tickets).set_index("ticket")["ticket_group_size"]
    assert sizes.to_dict() == {"A": 3, "B": 1}


def test_fare_per_person_divides_by_group_size_and_defaults_unknown_tickets_to_one() -> None:
    rows = features.add_row_features(pd.concat([raw(Fare=30.0), raw(Fare=10.0)], ignore_index=True))
    out = features.add_population_features(rows, pd.Series([3.0, np.nan]))
    assert out["ticket_group_size"].tolist() == [3, 1]
    assert out["fare_per_person"].tolist() == [10.0, 10.0]


def test_feature_table_is_sorted_and_stamped_with_one_event_time() -> None:
    passengers = pd.concat([raw(PassengerId=2, Ticket="T"), raw(PassengerId=1, Ticket="T")])
    event = datetime(2020, 1, 1, tzinfo=UTC)
    table = features.build_feature_table(passengers, event)
    assert table["passenger_id"].tolist() == [1, 2]
    assert table["ticket_group_size"].tolist() == [2, 2]
    assert (table["event_timestamp"] == pd.Timestamp(event)).all()


def test_model_frame_keeps_gaps_in_numerics_and_fills_categories() -> None:
    rows = features.add_row_features(raw(Age=None, Embarked=None))
    frame = features.model_frame(features.add_population_features(rows, pd.Series([1])))
    assert list(frame.columns) == list(features.MODEL_FEATURES)
    assert np.isnan(frame.loc[0, "age"])
    assert frame.loc[0, "embarked"] == "U"
    assert frame["pclass"].dtype == np.float64
