"""The monitoring state's contract (`interfaces.MonitoringStore`), one test body per backend.

Files always, PostgreSQL with `services`. Both stores must give the same answers: an empty start,
a record that moves policy, latest and cycle log together, typed cycles read back as recorded, a
stored latest that is not a cycle read as none, and a conflict for the later of two overlapping
cycles, so no window is judged twice.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.support.samples import cycle
from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.domain.records import CycleResult
from titanic_mlops.stores.factory import open_monitoring_store
from titanic_mlops.stores.file_monitoring import LATEST
from titanic_mlops.stores.interfaces import CycleConflict, MonitoringStore

MODEL = "titanic-survival"


@dataclass(frozen=True)
class Backend:
    """One backend under test: its URL, and how to plant a stored latest cycle behind its back."""

    name: str
    url: str
    plant_latest: Callable[[object], None]  # store this payload where `latest()` reads from


def file_backend(directory: Path) -> Backend:
    def plant(payload: object) -> None:
        (directory / LATEST).write_text(json.dumps(payload))

    return Backend("file", f"file://{directory}", plant)


def postgres_backend(url: str) -> Backend:
    def plant(payload: object) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "INSERT INTO monitoring_cycles (model_name, ts, result) VALUES (%s, 0, %s)",
                (MODEL, Jsonb(payload)),
            )

    return Backend("postgresql", url, plant)


@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "file":
        return file_backend(tmp_path / "monitoring")
    return postgres_backend(request.getfixturevalue("database"))


@contextmanager
def opened(url: str, model_name: str = MODEL) -> Iterator[MonitoringStore]:
    store = open_monitoring_store(url, model_name)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[MonitoringStore]:
    with opened(backend.url) as store:
        yield store


def test_an_empty_store_starts_the_policy_from_scratch(store: MonitoringStore) -> None:
    assert store.policy() == PolicyState()
    assert store.latest() is None
    assert store.cycles() == [] and store.cycles(limit=None) == []
    assert store.retraining_cursor() == 0


def test_a_record_moves_policy_latest_and_cycles_together(store: MonitoringStore, backend: Backend) -> None:
    first = PolicyState(cursor=120, consecutive=1)
    store.record(cycle(window_ids=[1, 120]), first, PolicyState())
    second = PolicyState(cursor=240, consecutive=0, last_retrain=1.6e9)
    quiet = cycle(time=1.6e9, drift_detected=False, drift_share=0.0, action="none")
    store.record(quiet, second, first)
    with opened(backend.url) as other:
        for seen in (store, other):
            assert seen.policy() == second
            latest = seen.latest()
            assert latest == quiet
            assert latest is not None and latest.drift_detected is False  # a bool, whatever was passed
            assert [c.time for c in seen.cycles()] == [1.5e9, 1.6e9]
            assert seen.cycles(limit=1) == [quiet]
            assert seen.cycles()[0].window_ids == [1, 120]


def test_a_cycle_reads_back_as_it_was_recorded(store: MonitoringStore) -> None:
    recorded = cycle(
        window_rows=120,
        live_accuracy=None,
        drifted=["age", "fare"],
        labelled_rows=60,
        prediction_drift=True,
        quality_breach=True,
        reference_version="3",
        window_ids=[121, 240],
        reports={"drift": "reports/monitoring/drift-240.html"},
    )
    store.record(recorded, PolicyState(cursor=240), PolicyState())
    assert store.latest() == recorded
    assert store.cycles() == [recorded]
    assert all(isinstance(c, CycleResult) for c in store.cycles())


def test_cycles_are_the_newest_ones_oldest_first(store: MonitoringStore) -> None:
    state = PolicyState()
    for n in range(1, 5):
        after = PolicyState(cursor=100 * n)
        store.record(cycle(time=float(n)), after, state)
        state = after
    assert [c.time for c in store.cycles(limit=2)] == [3.0, 4.0]
    assert [c.time for c in store.cycles(limit=None)] == [1.0, 2.0, 3.0, 4.0]
    assert [c.time for c in store.cycles(limit=10)] == [1.0, 2.0, 3.0, 4.0]


def test_a_limit_of_zero_cycles_is_no_cycles(
    store: MonitoringStore,
) -> None:
    store.record(cycle(), PolicyState(cursor=100), PolicyState())
    assert store.cycles(limit=0) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("drift_share", "high"),
        ("drifted_columns", 2.5),
        ("window_rows", "many"),
        ("action", "retrain now"),
        ("window_ids", "1-120"),
        ("drift_detected", "yes"),
        ("live_accuracy", math.nan),
        ("drift_share", math.inf),
    ],
)
def test_a_cycle_cannot_be_built_with_a_mistyped_value(field: str, value: object) -> None:
    """So no store ever sees one: the typed result is refused before anything is recorded."""
    with pytest.raises(ValueError, match=field):
        cycle(**{field: value})


def test_a_cycle_missing_a_field_or_carrying_an_unknown_one_names_it() -> None:
    values = cycle().model_dump()
    del values["drifted_columns"]
    with pytest.raises(ValueError, match="drifted_columns"):
        CycleResult(**values)
    with pytest.raises(ValueError, match="drift_score"):
        cycle(drift_score=0.3)


def test_a_stored_latest_that_is_not_a_cycle_reads_as_none_with_a_warning(
    store: MonitoringStore, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    store.record(cycle(), PolicyState(cursor=100), PolicyState())
    backend.plant_latest({"drift_share": 0.1})  # what an older version might have left behind
    with caplog.at_level(logging.WARNING, logger="titanic_mlops.stores"):
        assert store.latest() is None
    assert "is not a monitoring cycle" in caplog.text
    assert store.policy() == PolicyState(cursor=100)  # the policy state does not depend on it


def test_an_unreadable_latest_file_reads_as_none_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with opened(f"file://{tmp_path}") as store:
        (tmp_path / LATEST).write_text("{not json")
        with caplog.at_level(logging.WARNING, logger="titanic_mlops.stores"):
            assert store.latest() is None
    assert "unreadable monitoring state" in caplog.text


def test_the_later_of_two_overlapping_cycles_gets_a_conflict(
    store: MonitoringStore, backend: Backend
) -> None:
    store.record(cycle(), PolicyState(cursor=100), PolicyState())
    with opened(backend.url) as other:
        started = store.policy()
        assert other.policy() == started
        other.record(cycle(time=2.0e9), PolicyState(cursor=200), started)
        with pytest.raises(CycleConflict, match="cursor 200"):
            store.record(cycle(time=2.1e9), PolicyState(cursor=210), started)
    assert store.policy() == PolicyState(cursor=200)
    assert [c.time for c in store.cycles()] == [1.5e9, 2.0e9]
    latest = store.latest()
    assert latest is not None and latest.time == 2.0e9


def test_simultaneous_first_cycles_record_exactly_once(backend: Backend) -> None:
    stores = [open_monitoring_store(backend.url, MODEL) for _ in range(6)]
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def one(position: int) -> None:
        start.wait(timeout=60)
        try:
            stores[position].record(
                cycle(time=float(position)), PolicyState(cursor=position + 1), PolicyState()
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
        assert [c.time for c in stores[0].cycles()] == [float(winner)]
    finally:
        for opened_store in stores:
            opened_store.close()


def test_the_retraining_cursor_starts_at_zero_and_keeps_the_last_saved(
    store: MonitoringStore, backend: Backend
) -> None:
    assert store.retraining_cursor() == 0
    store.save_retraining_cursor(120)
    store.save_retraining_cursor(300)
    with opened(backend.url) as again:
        assert again.retraining_cursor() == 300
        assert again.policy() == PolicyState()  # the two cursors are independent
        assert again.latest() is None


@pytest.mark.services
def test_models_keep_their_own_state_in_one_database(database: str) -> None:
    with opened(database, "model-a") as one, opened(database, "model-b") as two:
        one.record(cycle(model_name="model-a"), PolicyState(cursor=50), PolicyState())
        one.save_retraining_cursor(40)
        assert two.policy() == PolicyState() and two.latest() is None and two.cycles() == []
        assert two.retraining_cursor() == 0
        two.record(cycle(model_name="model-b", time=3.0e9), PolicyState(cursor=7), PolicyState())
        assert one.policy().cursor == 50 and two.policy().cursor == 7
        assert [c.model_name for c in one.cycles()] == ["model-a"]


@pytest.mark.services
def test_the_postgres_store_reconnects_after_its_connection_drops(database: str) -> None:
    with opened(database) as store:
        store.record(cycle(), PolicyState(cursor=5), PolicyState())
        with psycopg.connect(database, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        assert store.policy() == PolicyState(cursor=5)
        latest = store.latest()
        assert latest is not None and latest.drift_share == 0.25
