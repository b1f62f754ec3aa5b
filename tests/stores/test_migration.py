"""Moving state from the embedded profile to the production one: `migrate-log` copies the
prediction log, `migrate_monitoring` the monitoring state; both keep the ids the cursors point at,
and both copy into an empty store only.

Into SQLite / files always, into PostgreSQL with `services`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from tests.support.log_checks import predictions
from tests.support.samples import cycle
from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.stores.factory import open_monitoring_store, open_prediction_log
from titanic_mlops.stores.interfaces import MonitoringStore, PredictionLog, TargetNotEmpty
from titanic_mlops.stores.migration import copy_log, migrate_monitoring

MODEL = "titanic-survival"
POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.services)


@contextmanager
def log_at(url: str) -> Iterator[PredictionLog]:
    log = open_prediction_log(url)
    try:
        yield log
    finally:
        log.close()


@contextmanager
def monitoring_at(url: str) -> Iterator[MonitoringStore]:
    store = open_monitoring_store(url, MODEL)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def embedded_log(tmp_path: Path) -> str:
    """A SQLite log of predictions 1, 2, 4, 5, 6 (3 was removed: copied ids cannot be renumbered
    unnoticed) with three labels, the latest of two on prediction 4 a 1."""
    path = tmp_path / "embedded.db"
    with log_at(f"sqlite:///{path}") as log:
        assert log.append(predictions(6)) == [1, 2, 3, 4, 5, 6]
        log.add_feedback(1, prediction_id=2)
        log.add_feedback(0, passenger_id=4)
        log.add_feedback(1, passenger_id=4)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM predictions WHERE id = 3")
    db.commit()
    db.close()
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", POSTGRESQL])
def target_log(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    database: str = request.getfixturevalue("database")
    return database


@pytest.fixture(params=["file", POSTGRESQL])
def target_monitoring(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path / 'target-monitoring'}"
    database: str = request.getfixturevalue("database")
    return database


@pytest.fixture
def embedded_monitoring(tmp_path: Path) -> str:
    """Two cycles (the second a retraining), the policy after them and a retraining cursor."""
    url = f"file://{tmp_path / 'embedded-monitoring'}"
    with monitoring_at(url) as source:
        first = PolicyState(cursor=150, consecutive=1)
        source.record(cycle(time=1.0, action="none", window_ids=[1, 150]), first, PolicyState())
        final = PolicyState(cursor=300, consecutive=0, last_retrain=2.0)
        source.record(cycle(time=2.0, window_ids=[151, 300]), final, first)
        source.save_retraining_cursor(280)
    return url


def test_migrate_log_keeps_ids_and_feedback(embedded_log: str, target_log: str) -> None:
    assert copy_log(embedded_log, target_log) == {"predictions": 5, "feedback": 3}
    with log_at(embedded_log) as source, log_at(target_log) as target:
        assert target.window()["id"].tolist() == [1, 2, 4, 5, 6]
        pd.testing.assert_frame_equal(target.window(), source.window(), check_dtype=False)
        pd.testing.assert_frame_equal(target.labelled(), source.labelled(), check_dtype=False)
        assert target.labelled()["label"].tolist() == [1, 1]


def test_the_migrated_log_goes_on_after_the_copied_ids(embedded_log: str, target_log: str) -> None:
    copy_log(embedded_log, target_log)
    with log_at(target_log) as target:
        assert target.append(predictions(1, start=7)) == [7]
        assert target.add_feedback(0, prediction_id=7) == 7  # the feedback ids go on too
        assert target.labelled()["id"].tolist() == [2, 4, 7]


def test_migrate_log_refuses_a_target_that_holds_predictions(embedded_log: str, target_log: str) -> None:
    with log_at(target_log) as target:
        target.append(predictions(1, start=900))
    with pytest.raises(TargetNotEmpty, match="already holds 1 predictions"):
        copy_log(embedded_log, target_log)
    with log_at(target_log) as target:
        assert target.window()["passenger_id"].tolist() == [900]  # nothing merged


def test_a_second_migrate_log_into_the_same_target_is_refused(embedded_log: str, target_log: str) -> None:
    copy_log(embedded_log, target_log)
    with pytest.raises(TargetNotEmpty, match="already holds 5 predictions"):
        copy_log(embedded_log, target_log)
    with log_at(target_log) as target:
        assert target.count() == 5


def test_migrate_log_from_a_missing_sqlite_file_says_so(tmp_path: Path, target_log: str) -> None:
    with pytest.raises(FileNotFoundError, match="no prediction log there"):
        copy_log(f"sqlite:///{tmp_path / 'missing.db'}", target_log)


def test_migrate_monitoring_copies_cycles_policy_and_cursor(
    embedded_monitoring: str, target_monitoring: str
) -> None:
    with monitoring_at(embedded_monitoring) as source, monitoring_at(target_monitoring) as target:
        assert migrate_monitoring(source, target) == 2
        assert target.cycles(limit=None) == source.cycles(limit=None)
        assert [(c.time, c.action) for c in target.cycles()] == [(1.0, "none"), (2.0, "retrain")]
        assert target.latest() == source.latest()
        assert target.policy() == PolicyState(cursor=300, consecutive=0, last_retrain=2.0)
        assert target.retraining_cursor() == 280


@pytest.mark.parametrize("holds", ["a cycle", "a retraining cursor"])
def test_migrate_monitoring_refuses_a_target_that_holds_state(
    embedded_monitoring: str, target_monitoring: str, holds: str
) -> None:
    with monitoring_at(embedded_monitoring) as source, monitoring_at(target_monitoring) as target:
        if holds == "a cycle":
            target.record(cycle(time=9.0), PolicyState(cursor=9), PolicyState())
        else:
            target.save_retraining_cursor(9)
        before = (target.policy(), target.cycles(), target.retraining_cursor())
        with pytest.raises(TargetNotEmpty):
            migrate_monitoring(source, target)
        assert (target.policy(), target.cycles(), target.retraining_cursor()) == before  # nothing merged


def test_a_second_migrate_monitoring_into_the_same_target_is_refused(
    embedded_monitoring: str, target_monitoring: str
) -> None:
    with monitoring_at(embedded_monitoring) as source, monitoring_at(target_monitoring) as target:
        migrate_monitoring(source, target)
        with pytest.raises(TargetNotEmpty):
            migrate_monitoring(source, target)
        assert len(target.cycles()) == 2


def test_migrating_an_empty_monitoring_state_copies_nothing(tmp_path: Path, target_monitoring: str) -> None:
    with monitoring_at(f"file://{tmp_path / 'empty'}") as source, monitoring_at(target_monitoring) as target:
        assert migrate_monitoring(source, target) == 0
        assert target.policy() == PolicyState() and target.cycles() == [] and target.retraining_cursor() == 0


def test_the_migrate_commands_print_what_they_copied(
    embedded_log: str,
    embedded_monitoring: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from titanic_mlops.cli.main import main

    monkeypatch.setenv("TITANIC_MLOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TITANIC_MLOPS_MODEL_NAME", MODEL)
    target_log = f"sqlite:///{tmp_path / 'moved.db'}"
    assert main(["migrate-log", "--from", embedded_log, "--to", target_log]) == 0
    assert json.loads(capsys.readouterr().out) == {"predictions": 5, "feedback": 3}
    moved = f"file://{tmp_path / 'moved-monitoring'}"
    assert main(["migrate-monitoring", "--from", embedded_monitoring, "--to", moved]) == 0
    assert json.loads(capsys.readouterr().out) == {"cycles": 2, "cursor": 300}
    assert main(["migrate-log", "--from", embedded_log, "--to", target_log]) == 1  # refused: not empty
    assert "already holds 5 predictions" in capsys.readouterr().err
