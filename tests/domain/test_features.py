"""Row and population features on tiny frames."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tests.support.samples import BRAUND
from titanic_mlops.domain import features


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


def inputs(**overrides: object) -> dict[str, object]:
    """The model inputs of one Braund record with `overrides`, as plain values."""
    record = {**BRAUND, **overrides}
    return features.input_rows(features.model_inputs(features.records_columns([record]), [None]))[0]


def test_row_features_derive_family_and_cabin_flags() -> None:
    row = inputs(SibSp=1, Parch=2, Cabin="C85")
    assert (row["family_size"], row["is_alone"], row["has_cabin"], row["deck"]) == (4, 0, 1, "C")


def test_row_features_mark_a_lone_traveller_without_cabin() -> None:
    row = inputs(SibSp=0, Parch=0)
    assert (row["is_alone"], row["has_cabin"], row["deck"]) == (1, 0, "U")


def test_missing_embarked_becomes_unknown_category() -> None:
    assert inputs(Embarked=None)["embarked"] == "U"


def test_ticket_group_size_counts_passengers_sharing_a_ticket() -> None:
    tickets = pd.Series(["A", "B", "A", "A"])
    sizes = features.ticket_group_sizes(tickets).set_index("ticket")["ticket_group_size"]
    assert sizes.to_dict() == {"A": 3, "B": 1}


def test_fare_per_person_divides_by_group_size_and_defaults_unknown_tickets_to_one() -> None:
    raw = features.records_columns([{**BRAUND, "Fare": 30.0}, {**BRAUND, "Fare": 10.0}])
    out = features.model_inputs(raw, [3.0, None])
    assert out["ticket_group_size"].tolist() == [3.0, 1.0]
    assert out["fare_per_person"].tolist() == [10.0, 10.0]


def test_feature_table_is_sorted_and_stamped_with_one_event_time() -> None:
    passengers = pd.concat([raw(PassengerId=2, Ticket="T"), raw(PassengerId=1, Ticket="T")])
    event = datetime(2020, 1, 1, tzinfo=UTC)
    table = features.build_feature_table(passengers, event)
    assert table["passenger_id"].tolist() == [1, 2]
    assert table["ticket_group_size"].tolist() == [2, 2]
    assert (table["event_timestamp"] == pd.Timestamp(event)).all()


def test_inputs_keep_gaps_in_numerics_and_fill_categories() -> None:
    frame = features.inputs_frame(
        features.model_inputs(features.records_columns([{**BRAUND, "Age": None}]), [1])
    )
    assert list(frame.columns) == list(features.MODEL_INPUTS)
    assert np.isnan(frame.loc[0, "age"])
    assert frame["pclass"].dtype == np.float64


def test_a_frame_and_its_records_give_the_same_inputs() -> None:
    """Batch (a typed table) and request (records) feed the same columns into one implementation."""
    records = [BRAUND, {**BRAUND, "Age": None, "Cabin": "C85", "Embarked": None, "Name": "X, Dona. Y"}]
    frame = pd.DataFrame(records).astype({"Age": "float64", "Cabin": "string", "Embarked": "string"})
    from_frame = features.model_inputs(features.frame_columns(frame), [2.0, None])
    from_records = features.model_inputs(features.records_columns(records), [2.0, None])
    pd.testing.assert_frame_equal(features.inputs_frame(from_frame), features.inputs_frame(from_records))


def test_large_inputs_map_each_distinct_text_once_and_give_the_same_values() -> None:
    names = ["Braund, Mr. Owen", "Heikkinen, Miss. Laina", None] * 200
    many = features.records_columns([{**BRAUND, "Name": n} for n in names])
    titles = features.row_features(many)["title"].tolist()
    assert titles == [features.extract_title(n) for n in names]


def test_women_and_boys_share_a_group_key_and_men_have_none() -> None:
    mother = {**BRAUND, "Name": "Palsson, Mrs. Nils (Alma)", "Sex": "female", "Ticket": "349909"}
    boy = {**mother, "Name": "Palsson, Master. Gosta Leonard", "Sex": "male"}
    father = {**mother, "Name": "Palsson, Mr. Nils", "Sex": "male"}
    keys = features.row_features(features.records_columns([mother, boy, father]))["wcg_group"].tolist()
    assert keys[0] == keys[1] == "palsson|3|34990|7.25|S"
    assert keys[2] == features.NO_GROUP


def test_group_keys_of_a_large_batch_equal_each_record_s_own() -> None:
    """Batch scoring's chunks take the large-input path (titles mapped per distinct name, keys
    built for the women and boys only); one record at a time must give the same key."""
    mother = {**BRAUND, "Name": "Palsson, Mrs. Nils (Alma)", "Sex": "female", "Ticket": "349909"}
    variants = [
        mother,
        {**mother, "Name": "Palsson, Master. Gosta", "Sex": "male", "Fare": None},
        {**mother, "Name": None},
        {**mother, "Sex": None, "Pclass": None, "Embarked": "Q"},
        {**mother, "Name": "Nobody without a title", "Ticket": None, "Embarked": None},
        BRAUND,
    ]
    records = variants * 50
    batch = features.row_features(features.records_columns(records))["wcg_group"].tolist()
    one_by_one = [features.row_features(features.records_columns([r]))["wcg_group"][0] for r in variants]
    assert len(records) > 256  # coded.SMALL: the large-input path
    assert batch == one_by_one * 50
    assert one_by_one == [
        "palsson|3|34990|7.25|S",
        "palsson|3|34990||S",
        "",
        "",
        "nobody without a title|3||7.25|U",
        "",
    ]


def test_feedback_passengers_never_change_a_snapshot_passengers_inputs() -> None:
    """Group sizes count the population they were frozen with: the snapshot's tickets only."""
    snapshot = pd.concat(
        [raw(PassengerId=1, Ticket="T", Fare=30.0), raw(PassengerId=2, Ticket="T", Fare=30.0)]
    )
    feedback = pd.concat([raw(PassengerId=900 + i, Ticket="T", Fare=30.0) for i in range(5)])
    event = datetime(2020, 1, 1, tzinfo=UTC)
    before = features.build_feature_table(snapshot, event, snapshot["Ticket"])
    after = features.build_feature_table(pd.concat([snapshot, feedback]), event, snapshot["Ticket"])
    pd.testing.assert_frame_equal(after[after["passenger_id"] < 900].reset_index(drop=True), before)
    assert after["ticket_group_size"].tolist() == [2] * 7
    assert after["fare_per_person"].tolist() == [15.0] * 7
    tickets = features.build_ticket_table(after)
    assert tickets[["ticket", "ticket_group_size"]].to_dict("records") == [
        {"ticket": "T", "ticket_group_size": 2}
    ]


def test_a_frame_s_text_gaps_become_none_whatever_held_them() -> None:
    """The parser leaves NaN in text columns, a StringDtype column pd.NA, a built frame None:
    every path's text columns hold None for a gap (a ticket's gap is looked up as "None")."""
    base = pd.DataFrame([BRAUND, BRAUND, BRAUND])
    parsed = base.assign(Cabin=["C85", np.nan, None], Ticket=[np.nan, "T", "T"])
    typed = base.assign(Cabin=pd.array(["C85", None, None], dtype="string"))
    cases = (
        (parsed, "Cabin", ["C85", None, None]),
        (typed, "Cabin", ["C85", None, None]),
        (parsed, "Ticket", [None, "T", "T"]),
    )
    for frame, column, expected in cases:
        assert features.frame_columns(frame)[column].tolist() == expected
