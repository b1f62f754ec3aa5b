"""The prediction log on PostgreSQL behaves like the SQLite one, survives a dropped connection,
and `migrate-log` moves the embedded log into it with ids and feedback intact."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from tests.prediction_log_support import append_concurrently, assert_requests_kept_apart
from titanic_mlops import log_migration
from titanic_mlops.cli import main
from titanic_mlops.prediction_log import FeedbackTargetMissing, LoggedPrediction, PredictionLog, open_log

pytestmark = pytest.mark.services


def rows(n: int, start: int = 1) -> list[LoggedPrediction]:
    return [
        LoggedPrediction(
            request_id=f"r{i}", model_name="m", model_version="1", passenger_id=None if i % 3 == 0 else i,
            record={"PassengerId": i, "Name": "Kelly, Mr. James"},
            features={"age": float("nan") if i % 2 else 30.0, "title": "Mr"},
            probability=i / 100, survived=int(i % 2), latency_ms=1.5,
        )
        for i in range(start, start + n)
    ]  # fmt: skip


def fill(log: PredictionLog) -> None:
    assert log.append(rows(5)) == [1, 2, 3, 4, 5]
    assert log.append([]) == []
    assert log.add_feedback(1, prediction_id=2) == 2
    assert log.add_feedback(0, passenger_id=4) == 4
    assert log.add_feedback(1, passenger_id=4) == 4  # the latest label wins


def test_postgres_log_returns_what_the_sqlite_log_returns(database: str, tmp_path: Path) -> None:
    sqlite, postgres = open_log(f"sqlite:///{tmp_path / 'p.db'}"), open_log(database)
    try:
        for log in (sqlite, postgres):
            fill(log)
        for read in (
            lambda log: log.window(),
            lambda log: log.window(after_id=2, limit=2),
            lambda log: log.labelled(),
        ):
            expected, got = read(sqlite).drop(columns="ts"), read(postgres).drop(columns="ts")
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        assert list(postgres.labelled()["label"]) == [1, 1]
        assert postgres.count() == sqlite.count() == 5
    finally:
        sqlite.close()
        postgres.close()


def test_ids_follow_the_rows_order_even_under_concurrent_requests(database: str) -> None:
    """One statement per request: each request's ids ascend with its rows, and never mix."""
    logs = [open_log(database) for _ in range(2)]
    try:
        answers = append_concurrently(
            logs,
            15,
            6,
            lambda count, start, request: [
                dataclasses.replace(row, request_id=request) for row in rows(count, start=start)
            ],
        )
        assert_requests_kept_apart(logs[0], answers)
        big = logs[0].append(rows(1000, start=5000))
        assert logs[0].window(after_id=big[0] - 1)["probability"].tolist() == [
            i / 100 for i in range(5000, 6000)
        ]
    finally:
        for log in logs:
            log.close()


def test_a_failing_row_drops_the_whole_request(database: str) -> None:
    log = open_log(database)
    try:
        log.append(rows(2))
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            admin.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON predictions FOR EACH ROW"
                " WHEN (NEW.passenger_id = 13) EXECUTE FUNCTION refuse()"
            )
        for batch in (rows(5, start=10), rows(1, start=13)):  # the many-row and the one-row statement
            with pytest.raises(psycopg.errors.RaiseException, match="refused"):
                log.append(batch)
        assert log.count() == 2
        ids = log.append(rows(3, start=20))
        assert ids == sorted(ids) and ids[0] > 2
        assert log.window(after_id=2)["probability"].tolist() == [0.2, 0.21, 0.22]
    finally:
        log.close()


def test_feedback_for_an_unknown_prediction_is_refused(database: str) -> None:
    log = open_log(database)
    try:
        with pytest.raises(FeedbackTargetMissing, match="PassengerId 77"):
            log.add_feedback(1, passenger_id=77)
        with pytest.raises(ValueError, match="label must be 0 or 1"):
            log.add_feedback(2, prediction_id=1)
    finally:
        log.close()


def test_the_log_reconnects_after_the_database_drops_its_connection(database: str) -> None:
    log = open_log(database)
    try:
        log.append(rows(1))
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert log.append(rows(1, start=2)) == [2]
        assert log.count() == 2
    finally:
        log.close()


def test_migrate_log_copies_sqlite_into_postgres_with_ids_and_feedback(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'p.db'}"
    log = open_log(source)
    fill(log)
    expected = log.labelled().drop(columns="ts")
    log.close()
    assert main(["migrate-log", "--from", source, "--to", database]) == 0
    assert '"feedback": 3' in capsys.readouterr().out
    moved = open_log(database)
    try:
        pd.testing.assert_frame_equal(moved.labelled().drop(columns="ts"), expected, check_dtype=False)
        assert moved.append(rows(1, start=6)) == [6]  # ids continue after the copied ones
    finally:
        moved.close()
    with pytest.raises(log_migration.TargetNotEmpty, match="already holds 6 predictions"):
        log_migration.copy_log(source, database)
