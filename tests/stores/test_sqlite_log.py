"""What only the SQLite prediction log does: background WAL checkpoints, the own-id-range check,
and two processes writing one file. The shared contract is in test_prediction_log.py."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from tests.support.log_checks import append_in_process, assert_requests_kept_apart, predictions
from tests.support.net import wait_for
from titanic_mlops.stores.factory import open_prediction_log
from titanic_mlops.stores.sqlite_log import SqlitePredictionLog


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def test_ids_that_are_not_the_requests_own_abort_it(tmp_path: Path) -> None:
    """The range check is live: a hole in the range the rows should own refuses the request."""
    path = tmp_path / "p.db"
    log = open_prediction_log(url_of(path))
    try:
        log.append(predictions(2))
        db = sqlite3.connect(path)
        db.execute(
            "CREATE TRIGGER hole AFTER INSERT ON predictions WHEN NEW.passenger_id = 12"
            " BEGIN DELETE FROM predictions WHERE id = NEW.id - 1; END"
        )
        db.commit()
        db.close()
        with pytest.raises(RuntimeError, match="not this request's 3"):
            log.append(predictions(3, start=10))
        assert log.window()["passenger_id"].tolist() == [1, 2]
    finally:
        log.close()


def test_concurrent_requests_from_two_processes_keep_their_own_ids(tmp_path: Path) -> None:
    """Two processes (as two API workers), each with its own connection, append to one file at once."""
    url = url_of(tmp_path / "p.db")
    open_prediction_log(url).close()  # the schema, before the writers race for it
    # Forked, as a pre-forking server starts its workers; no connection is open across the fork.
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=append_in_process, args=(url, worker, 20, 7, start, out))
        for worker in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        results = [out.get(timeout=300) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=60)
    failures = [result for result in results if isinstance(result, str)]
    assert not failures, "\n".join(failures)
    assert [worker.exitcode for worker in workers] == [0, 0]
    answers = {request: ids for result in results for request, ids in result.items()}
    log = open_prediction_log(url)
    try:
        assert len(answers) == 40
        assert_requests_kept_apart(log, answers)
    finally:
        log.close()


def test_background_checkpoints_move_the_wal_into_the_database(tmp_path: Path) -> None:
    """With `checkpoint_seconds`, pages reach the database file without the writer checkpointing."""
    path = tmp_path / "p.db"
    log = open_prediction_log(url_of(path), checkpoint_seconds=0.05)
    assert isinstance(log, SqlitePredictionLog)
    try:
        empty = path.stat().st_size
        for start in range(0, 200, 10):
            log.append(predictions(10, start=start))
        # the writer alone would checkpoint at ~32 MB of WAL
        wait_for(lambda: path.stat().st_size > empty + 20_000, 60, "a background checkpoint", every=0.05)
        assert log.count() == 200
    finally:
        log.close()
    assert log._checkpointer is not None and not log._checkpointer.is_alive()


def test_without_checkpoint_seconds_no_checkpoint_thread_runs(tmp_path: Path) -> None:
    log = open_prediction_log(url_of(tmp_path / "p.db"))
    assert isinstance(log, SqlitePredictionLog)
    try:
        assert log._checkpointer is None
    finally:
        log.close()
