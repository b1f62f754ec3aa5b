"""The prediction log's contract (`interfaces.PredictionLog`), one test body per backend.

Every backend `factory.open_prediction_log` builds runs the same suite: SQLite always, PostgreSQL
with `services`. A backend's own behaviour (WAL checkpoints, reconnects) lives in its own module.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from tests.support.log_checks import append_concurrently, assert_requests_kept_apart, predictions
from titanic_mlops.stores.factory import open_prediction_log
from titanic_mlops.stores.interfaces import FeedbackTargetMissing, PredictionLog


@dataclass(frozen=True)
class Backend:
    """One backend under test: where its log lives and how to make its database refuse a row."""

    url: str
    refuse_passenger: Callable[[int], None]  # rows with this PassengerId fail inside the database
    refused: type[Exception]  # what the log raises then


def sqlite_backend(path: Path) -> Backend:
    def refuse(passenger_id: int) -> None:
        db = sqlite3.connect(path)
        try:
            db.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON predictions WHEN NEW.passenger_id = {passenger_id}"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
            db.commit()
        finally:
            db.close()

    return Backend(f"sqlite:///{path}", refuse, sqlite3.IntegrityError)


def postgres_backend(url: str) -> Backend:
    def refuse(passenger_id: int) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON predictions FOR EACH ROW"
                f" WHEN (NEW.passenger_id = {passenger_id}) EXECUTE FUNCTION refuse()"
            )

    return Backend(url, refuse, psycopg.errors.RaiseException)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return sqlite_backend(tmp_path / "predictions.db")
    return postgres_backend(request.getfixturevalue("database"))


@pytest.fixture
def log(backend: Backend) -> Iterator[PredictionLog]:
    opened = open_prediction_log(backend.url)
    try:
        yield opened
    finally:
        opened.close()


def passenger_ids(frame: pd.DataFrame) -> list[int]:
    return [int(v) for v in frame["passenger_id"]]


def test_an_empty_log_holds_nothing(log: PredictionLog) -> None:
    assert log.append([]) == []
    assert log.count() == 0
    assert log.window().empty and log.labelled().empty


def test_ids_follow_the_rows_order(log: PredictionLog) -> None:
    one = log.append(predictions(1))
    many = log.append(predictions(1000, start=2))
    assert len(one) == 1 and len(many) == 1000
    assert many == sorted(many) and len(set(many)) == 1000 and many[0] > one[0]
    frame = log.window().set_index("id")
    assert frame.loc[one + many, "passenger_id"].astype(int).tolist() == list(range(1, 1002))
    assert frame.loc[many, "probability"].tolist() == [i / 10_000 for i in range(2, 1002)]


def test_rows_are_durable_on_return_and_seen_by_another_log_object(
    log: PredictionLog, backend: Backend
) -> None:
    ids = log.append(predictions(3))
    log.add_feedback(1, prediction_id=ids[0])
    other = open_prediction_log(backend.url)
    try:
        assert other.count() == 3
        assert other.window()["id"].tolist() == ids
        assert other.labelled()["id"].tolist() == ids[:1]
    finally:
        other.close()


@pytest.mark.parametrize("size", [5, 1], ids=["many-row request", "one-row request"])
def test_a_failing_row_drops_the_whole_request(log: PredictionLog, backend: Backend, size: int) -> None:
    before = log.append(predictions(2))
    backend.refuse_passenger(13)
    with pytest.raises(backend.refused, match="refused"):
        log.append(predictions(size, start=14 - size))  # PassengerId 13 is the request's last row
    assert log.count() == 2
    after = log.append(predictions(3, start=20))
    assert after == sorted(after) and after[0] > before[-1]
    assert passenger_ids(log.window(after_id=before[-1])) == [20, 21, 22]


def test_concurrent_requests_keep_their_own_ids(backend: Backend) -> None:
    """Two log objects (two connections, as two API workers) appending at once never mix ids."""
    logs = [open_prediction_log(backend.url) for _ in range(2)]
    try:
        answers = append_concurrently(logs, 15, 6, predictions)
        assert_requests_kept_apart(logs[0], answers)
    finally:
        for opened in logs:
            opened.close()


def test_feedback_goes_to_a_prediction_id_or_the_latest_prediction_of_a_passenger(log: PredictionLog) -> None:
    first = log.append(predictions(2, start=7))  # PassengerIds 7 and 8
    again = log.append(predictions(1, start=7))  # PassengerId 7 asked about a second time
    assert log.add_feedback(0, prediction_id=first[0]) == first[0]
    assert log.add_feedback(1, passenger_id=7) == again[0]
    assert log.add_feedback(1, passenger_id=8) == first[1]
    labelled = log.labelled()
    assert labelled["id"].tolist() == [first[0], first[1], again[0]]
    assert labelled["label"].tolist() == [0, 1, 1]


def test_the_latest_label_wins_in_labelled(log: PredictionLog) -> None:
    ids = log.append(predictions(3))
    log.add_feedback(0, prediction_id=ids[1])
    log.add_feedback(1, prediction_id=ids[1])
    log.add_feedback(1, prediction_id=ids[2])
    log.add_feedback(0, prediction_id=ids[2])
    labelled = log.labelled()
    assert labelled["id"].tolist() == ids[1:]  # one row per prediction, however many labels it got
    assert labelled["label"].tolist() == [1, 0]
    assert log.labelled(after_id=ids[1])["id"].tolist() == ids[2:]


@pytest.mark.parametrize(
    ("target", "named"),
    [({"prediction_id": 99}, "prediction 99"), ({"passenger_id": 77}, "PassengerId 77")],
    ids=["prediction id", "PassengerId"],
)
def test_feedback_for_an_unknown_target_raises_feedback_target_missing(
    log: PredictionLog, target: dict[str, int], named: str
) -> None:
    log.append(predictions(2))
    with pytest.raises(FeedbackTargetMissing, match=named):
        log.add_feedback(1, **target)
    assert log.labelled().empty


def test_a_label_other_than_0_or_1_is_refused(log: PredictionLog) -> None:
    ids = log.append(predictions(1))
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        log.add_feedback(2, prediction_id=ids[0])
    assert log.labelled().empty


def test_window_reads_after_an_id_up_to_a_limit_with_the_inputs_as_f_columns(log: PredictionLog) -> None:
    ids = log.append(predictions(5))  # PassengerIds 1..5
    anonymous = log.append([replace(predictions(1, start=6)[0], passenger_id=None)])
    frame = log.window(after_id=ids[1], limit=2)
    assert frame["id"].tolist() == ids[2:4]
    assert list(frame.columns) == [
        "id", "request_id", "ts", "model_name", "model_version", "passenger_id", "record", "features",
        "probability", "survived", "latency_ms", "f_age", "f_title",
    ]  # fmt: skip
    assert passenger_ids(frame) == [3, 4]
    assert [json.loads(r) for r in frame["record"]] == [
        {"PassengerId": 3, "Name": "Kelly, Mr. James"},
        {"PassengerId": 4, "Name": "Kelly, Mr. James"},
    ]
    assert frame["f_title"].tolist() == ["Mr", "Mr"]
    assert pd.isna(frame["f_age"].iloc[0]) and frame["f_age"].iloc[1] == 30.0  # NaN is logged as null
    assert frame["survived"].tolist() == [1, 0] and frame["latency_ms"].tolist() == [1.5, 1.5]
    assert log.window(limit=1)["id"].tolist() == ids[:1]
    assert log.window(after_id=ids[-1])["id"].tolist() == anonymous
    assert pd.isna(log.window(after_id=ids[-1])["passenger_id"].iloc[0])
    assert log.window(after_id=anonymous[0]).empty


def test_labelled_carries_the_label_beside_the_window_columns(log: PredictionLog) -> None:
    ids = log.append(predictions(2))
    log.add_feedback(1, prediction_id=ids[0])
    labelled = log.labelled()
    assert list(labelled.columns) == [*log.window().columns[:11], "label", "f_age", "f_title"]
    assert labelled["label"].tolist() == [1]


def test_count_counts_predictions_not_feedback(log: PredictionLog) -> None:
    ids = log.append(predictions(4))
    log.add_feedback(1, prediction_id=ids[0])
    log.add_feedback(0, prediction_id=ids[0])
    assert log.count() == 4
    log.append(predictions(1, start=5))
    assert log.count() == 5
