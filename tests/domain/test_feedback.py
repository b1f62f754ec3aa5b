"""Labelled feedback -> a Kaggle batch and the gate's held-back recent set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tests.support.samples import BRAUND, VECTOR
from titanic_mlops.domain import features, feedback


def logged(n: int, passenger_ids: list[int | None] | None = None, label: int = 1) -> pd.DataFrame:
    ids = passenger_ids or list(range(1000, 1000 + n))
    return pd.DataFrame(
        {
            "id": range(1, n + 1),
            "passenger_id": ids,
            "record": [json.dumps({**BRAUND, "PassengerId": pid, "Name": "Doe, Mr. John"}) for pid in ids],
            "features": [json.dumps(VECTOR)] * n,
            "label": [label] * n,
        }
    )


def test_split_is_deterministic_and_holds_back_about_the_fraction() -> None:
    rows = logged(1000)
    first, again = feedback.split(rows, 0.3), feedback.split(rows, 0.3)
    pd.testing.assert_frame_equal(first.batch, again.batch)
    assert 250 < len(first.recent) < 350 and len(first.batch) + len(first.recent) == 1000
    assert (first.first_prediction_id, first.last_prediction_id) == (1, 1000)


def test_batch_is_in_kaggle_format_with_the_label() -> None:
    batch = feedback.split(logged(20), 0.3).batch
    assert list(batch.columns) == [
        "PassengerId",
        "Survived",
        "Pclass",
        "Name",
        "Sex",
        "Age",
        "SibSp",
        "Parch",
        "Ticket",
        "Fare",
        "Cabin",
        "Embarked",
    ]
    assert (batch["Survived"] == 1).all()


def test_recent_holds_the_logged_model_inputs_and_the_label() -> None:
    recent = feedback.split(logged(200), 0.5).recent
    assert list(recent.columns) == [*features.MODEL_INPUTS, "Survived"]


def test_a_passenger_labelled_twice_counts_once_and_anonymous_rows_get_an_id() -> None:
    rows = logged(4, passenger_ids=[7, 7, None, 8])
    parts = feedback.split(rows, 0.0001)
    assert sorted(parts.batch["PassengerId"]) == [7, 8, feedback.ANONYMOUS_ID_BASE + 3]


def test_too_few_rows_and_bad_labels_are_problems() -> None:
    assert feedback.label_problems(logged(60), min_rows=50) == []
    assert "fewer than min_feedback_rows 50" in feedback.label_problems(logged(10), 50)[0]
    assert "outside 0/1" in feedback.label_problems(logged(60, label=2), 50)[0]


def test_batch_names_are_new_files_per_batch(tmp_path: Path) -> None:
    name = feedback.batch_path(tmp_path, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 70)
    assert name.name == "20260102T030405000000Z-70.csv"
