"""The SQLite prediction log: a request's rows land together, with ids in the rows' order."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.prediction_log_support import append_concurrently, assert_requests_kept_apart
from titanic_mlops.prediction_log import LoggedPrediction, SqlitePredictionLog


def rows(n: int, start: int = 1, request: str = "r") -> list[LoggedPrediction]:
    return [
        LoggedPrediction(
            request_id=request, model_name="m", model_version="1", passenger_id=i,
            record={"PassengerId": i, "Name": "Kelly, Mr. James"},
            features={"age": float("nan") if i % 2 else 30.0, "title": "Mr"},
            probability=i / 10_000, survived=i % 2, latency_ms=1.5,
        )
        for i in range(start, start + n)
    ]  # fmt: skip


def add_trigger(path: Path, sql: str) -> None:
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()


def test_ids_follow_the_rows_order(tmp_path: Path) -> None:
    log = SqlitePredictionLog(tmp_path / "p.db")
    try:
        assert log.append([]) == []
        assert log.append(rows(1)) == [1]
        ids = log.append(rows(300, start=2))
        assert ids == list(range(2, 302))
        frame = log.window().set_index("id")
        assert frame.loc[ids, "passenger_id"].tolist() == list(range(2, 302))
        assert frame.loc[ids, "probability"].tolist() == [i / 10_000 for i in range(2, 302)]
    finally:
        log.close()


def test_a_failing_row_drops_the_whole_request_and_ids_go_on(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    log = SqlitePredictionLog(path)
    try:
        log.append(rows(2))
        add_trigger(
            path,
            "CREATE TRIGGER refuse BEFORE INSERT ON predictions WHEN NEW.passenger_id = 13"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        for batch in (rows(5, start=10), rows(1, start=13)):  # the many-row and the one-row path
            with pytest.raises(sqlite3.IntegrityError, match="refused"):
                log.append(batch)
        assert log.count() == 2
        assert log.append(rows(3, start=20)) == [3, 4, 5]
    finally:
        log.close()


def test_ids_that_are_not_the_requests_own_abort_it(tmp_path: Path) -> None:
    """The range check is live: a hole in the range the rows should own refuses the request."""
    path = tmp_path / "p.db"
    log = SqlitePredictionLog(path)
    try:
        log.append(rows(2))
        add_trigger(
            path,
            "CREATE TRIGGER hole AFTER INSERT ON predictions WHEN NEW.passenger_id = 12"
            " BEGIN DELETE FROM predictions WHERE id = NEW.id - 1; END",
        )
        with pytest.raises(RuntimeError, match="not this request's 3"):
            log.append(rows(3, start=10))
        assert log.window()["passenger_id"].tolist() == [1, 2]
    finally:
        log.close()


def test_concurrent_requests_from_two_processes_keep_their_own_ids(tmp_path: Path) -> None:
    """Two log objects (two connections, as two API workers) appending at once never mix ids."""
    logs = [SqlitePredictionLog(tmp_path / "p.db") for _ in range(2)]
    try:
        answers = append_concurrently(logs, 20, 7, lambda count, start, request: rows(count, start, request))
        assert_requests_kept_apart(logs[0], answers)
        frame = logs[0].window().set_index("id")
        for request, ids in answers.items():
            n = int(request.split("-")[1])
            assert frame.loc[ids, "passenger_id"].tolist() == list(range(100 * n, 100 * n + len(ids)))
    finally:
        for log in logs:
            log.close()


def test_background_checkpoints_move_the_wal_into_the_database(tmp_path: Path) -> None:
    """With `checkpoint_seconds`, pages reach the database file without the writer checkpointing."""
    path = tmp_path / "p.db"
    log = SqlitePredictionLog(path, checkpoint_seconds=0.05)
    try:
        empty = path.stat().st_size
        for start in range(0, 200, 10):
            log.append(rows(10, start=start))
        deadline = time.monotonic() + 60
        while path.stat().st_size <= empty + 20_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > empty + 20_000  # the writer alone would checkpoint at ~32 MB
        assert log.count() == 200
    finally:
        log.close()
    assert log._checkpointer is not None and not log._checkpointer.is_alive()
