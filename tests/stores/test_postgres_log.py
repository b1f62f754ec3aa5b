"""What only the PostgreSQL prediction log does: it recovers from a dropped connection by itself,
and its frames are the SQLite log's, so monitoring cannot tell them apart. The shared contract is
in test_prediction_log.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg
import pytest

from tests.support.log_checks import predictions
from titanic_mlops.stores.factory import open_prediction_log
from titanic_mlops.stores.interfaces import PredictionLog

pytestmark = pytest.mark.services


def drop_connections(database: str) -> int:
    """Terminate every other session on the test's database, as a database restart does."""
    with psycopg.connect(database, autocommit=True) as admin:
        found = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(found[0]) if found else 0


def test_the_log_reconnects_after_the_database_drops_its_connection(database: str) -> None:
    log = open_prediction_log(database)
    try:
        first = log.append(predictions(1))
        assert drop_connections(database) >= 1
        second = log.append(predictions(1, start=2))  # the call that finds the connection gone
        assert second[0] > first[0]
        assert drop_connections(database) >= 1
        assert log.count() == 2  # a read recovers too
    finally:
        log.close()


def test_the_postgres_log_returns_the_frames_the_sqlite_log_returns(database: str, tmp_path: Path) -> None:
    sqlite, postgres = open_prediction_log(f"sqlite:///{tmp_path / 'p.db'}"), open_prediction_log(database)

    def fill(log: PredictionLog) -> None:
        assert log.append(predictions(5)) == [1, 2, 3, 4, 5]
        log.add_feedback(1, prediction_id=2)
        log.add_feedback(0, passenger_id=4)
        log.add_feedback(1, passenger_id=4)

    try:
        for log in (sqlite, postgres):
            fill(log)
        for read in (
            lambda log: log.window(),
            lambda log: log.window(after_id=2, limit=2),
            lambda log: log.labelled(),
            lambda log: log.window(after_id=5),
        ):
            expected, got = read(sqlite).drop(columns="ts"), read(postgres).drop(columns="ts")
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    finally:
        sqlite.close()
        postgres.close()
