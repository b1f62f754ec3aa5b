"""The monitoring state's contract, on files (default suite) and on PostgreSQL (`services`).

Both stores must give the same answers: an empty start, a record that moves policy, latest and
cycle log together, refusal of a malformed result without a trace, and a conflict for the later
of two overlapping cycles, so no window is judged twice.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from titanic_mlops import monitoring_state
from titanic_mlops.monitoring_policy import PolicyState
from titanic_mlops.monitoring_state import CycleConflict, MonitoringStore

MODEL = "titanic-survival"
RESULT = {
    "drift_share": 0.25,
    "drift_detected": True,
    "drifted_columns": 3,
    "live_accuracy": None,
    "time": 1.5e9,
    "action": "none",
    "window_ids": [1, 120],
}


@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path / 'monitoring'}"
    database: str = request.getfixturevalue("database")
    return database


@pytest.fixture
def store(url: str) -> Iterator[MonitoringStore]:
    opened = monitoring_state.open_store(url, MODEL)
    try:
        yield opened
    finally:
        opened.close()


def result(**changes: Any) -> dict[str, Any]:
    return {**RESULT, **changes}


def test_an_empty_store_starts_the_policy_from_scratch(store: MonitoringStore) -> None:
    assert store.policy() == PolicyState()
    assert store.latest() is None
    assert store.cycles() == []


def test_a_record_moves_policy_latest_and_cycles_together(store: MonitoringStore) -> None:
    first = PolicyState(cursor=120, consecutive=1)
    store.record(result(), first, PolicyState())
    second = replace(first, cursor=240, consecutive=0, last_retrain=1.6e9)
    store.record(result(drift_detected=0, drift_share=0.0, time=1.6e9), second, first)
    assert store.policy() == second
    latest = store.latest()
    assert latest is not None and latest["time"] == 1.6e9
    assert latest["drift_detected"] is False  # stored as a bool, whatever the caller passed
    assert [c["time"] for c in store.cycles()] == [1.5e9, 1.6e9]
    assert [c["time"] for c in store.cycles(limit=1)] == [1.6e9]
    assert store.cycles()[0]["window_ids"] == [1, 120]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("drift_share", "high"),
        ("drifted_columns", 2.5),
        ("drift_detected", "yes"),
        ("live_accuracy", math.nan),
    ],
)
def test_a_mistyped_result_is_refused_and_leaves_no_trace(
    store: MonitoringStore, key: str, value: object
) -> None:
    with pytest.raises(ValueError, match=key):
        store.record(result(**{key: value}), PolicyState(cursor=9), PolicyState())
    assert store.policy() == PolicyState() and store.latest() is None and store.cycles() == []


def test_a_missing_key_names_itself(store: MonitoringStore) -> None:
    incomplete = {k: v for k, v in RESULT.items() if k != "drifted_columns"}
    with pytest.raises(ValueError, match="drifted_columns"):
        store.record(incomplete, PolicyState(cursor=9), PolicyState())


def test_the_later_of_two_overlapping_cycles_gets_a_conflict(store: MonitoringStore, url: str) -> None:
    store.record(result(), PolicyState(cursor=100), PolicyState())
    other = monitoring_state.open_store(url, MODEL)
    try:
        started = store.policy()
        assert other.policy() == started
        other.record(result(time=2.0e9), PolicyState(cursor=200), started)
        with pytest.raises(CycleConflict, match="cursor 200"):
            store.record(result(time=2.1e9), PolicyState(cursor=210), started)
    finally:
        other.close()
    assert store.policy() == PolicyState(cursor=200)
    assert [c["time"] for c in store.cycles()] == [1.5e9, 2.0e9]


def test_simultaneous_first_cycles_record_exactly_once(url: str) -> None:
    stores = [monitoring_state.open_store(url, MODEL) for _ in range(6)]
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def one(position: int) -> None:
        start.wait()
        try:
            stores[position].record(
                result(time=float(position)), PolicyState(cursor=position + 1), PolicyState()
            )
            outcomes.append("recorded")
        except CycleConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert sorted(outcomes) == ["conflict"] * 5 + ["recorded"]
        winner = stores[0].policy().cursor - 1
        assert [c["time"] for c in stores[0].cycles()] == [float(winner)]
    finally:
        for opened in stores:
            opened.close()


def test_an_unknown_url_names_the_setting() -> None:
    with pytest.raises(ValueError, match="TITANIC_MLOPS_MONITORING_URL"):
        monitoring_state.open_store("redis://127.0.0.1:6379", MODEL)


def test_an_unreadable_latest_file_reads_as_none(tmp_path: Path) -> None:
    store = monitoring_state.FileMonitoringStore(tmp_path)
    (tmp_path / monitoring_state.LATEST).write_text("{not json")
    assert store.latest() is None
    (tmp_path / monitoring_state.LATEST).write_text('{"drift_share": 0.1}')
    assert store.latest() is None


@pytest.mark.services
def test_models_keep_their_own_state_in_one_database(database: str) -> None:
    one = monitoring_state.open_store(database, "model-a")
    two = monitoring_state.open_store(database, "model-b")
    try:
        one.record(result(), PolicyState(cursor=50), PolicyState())
        assert two.policy() == PolicyState() and two.latest() is None
        two.record(result(time=3.0e9), PolicyState(cursor=7), PolicyState())
        assert one.policy().cursor == 50 and two.policy().cursor == 7
    finally:
        one.close()
        two.close()


@pytest.mark.services
def test_the_postgres_store_reconnects_after_its_connection_drops(database: str) -> None:
    store = monitoring_state.open_store(database, MODEL)
    try:
        store.record(result(), PolicyState(cursor=5), PolicyState())
        name = database.rsplit("/", 1)[1]
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        assert store.policy() == PolicyState(cursor=5)
        latest = store.latest()
        assert latest is not None and latest["drift_share"] == 0.25
    finally:
        store.close()


def test_migrate_copies_cycles_and_cursor_into_an_empty_store(url: str, tmp_path: Path) -> None:
    from titanic_mlops.cli import main

    source = monitoring_state.FileMonitoringStore(tmp_path / "embedded")
    source.record(result(time=1.0), PolicyState(cursor=150, consecutive=1), PolicyState())
    final = PolicyState(cursor=300, consecutive=0, last_retrain=2.0)
    source.record(result(time=2.0, action="retrain"), final, PolicyState(cursor=150, consecutive=1))
    source.save_retraining_cursor(280)
    assert main(["migrate-monitoring", "--from", f"file://{source.directory}", "--to", url]) == 0
    target = monitoring_state.open_store(url, "titanic-survival")
    try:
        assert target.policy() == final and target.retraining_cursor() == 280
        assert [(c["time"], c["action"]) for c in target.cycles()] == [(1.0, "none"), (2.0, "retrain")]
        latest = target.latest()
        assert latest is not None and latest["time"] == 2.0
        # a second copy into the now non-empty store is refused, and nothing is merged
        with pytest.raises(monitoring_state.TargetNotEmpty):
            monitoring_state.migrate(source, target)
        assert len(target.cycles()) == 2
    finally:
        target.close()


def test_the_retraining_cursor_starts_at_zero_and_keeps_the_last_saved(
    store: MonitoringStore, url: str
) -> None:
    assert store.retraining_cursor() == 0
    store.save_retraining_cursor(120)
    store.save_retraining_cursor(300)
    again = monitoring_state.open_store(url, MODEL)
    try:
        assert again.retraining_cursor() == 300
        assert again.policy() == PolicyState()  # the two cursors are independent
    finally:
        again.close()
