"""The monitoring part of `titanic-mlops status`: the last cycle, both cursors, and what failed."""

from __future__ import annotations

from pathlib import Path

from tests.support.samples import cycle
from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.services import status
from titanic_mlops.stores.file_monitoring import FileMonitoringStore
from titanic_mlops.stores.interfaces import MonitoringStore


def test_status_shows_the_last_cycle_and_both_cursors(tmp_path: Path) -> None:
    store = FileMonitoringStore(tmp_path)
    store.record(cycle(), PolicyState(cursor=150, consecutive=0, last_retrain=1.5e9), PolicyState())
    store.save_retraining_cursor(140)
    state = status.monitoring(lambda: FileMonitoringStore(tmp_path))
    assert state["latest"]["action"] == "retrain"
    assert (state["cursor"], state["retraining_cursor"], state["last_retrain"]) == (150, 140, 1.5e9)
    line = status.render({"model_name": "m", "tracking_uri": "u", "history": [], "monitoring": state})
    assert "monitoring last cycle retrain (drift share 0.25, live accuracy 0.6100)" in line
    assert "judged up to prediction 150, retrained up to 140" in line


def test_status_says_when_no_cycle_ran_yet(tmp_path: Path) -> None:
    state = status.monitoring(lambda: FileMonitoringStore(tmp_path))
    assert state["latest"] is None and state["cursor"] == 0 and state["retraining_cursor"] == 0
    assert "monitoring no cycle yet" in status.render(
        {"model_name": "m", "tracking_uri": "u", "history": [], "monitoring": state}
    )


def test_a_monitoring_store_that_does_not_answer_is_reported_not_raised() -> None:
    def refuse() -> MonitoringStore:
        raise ConnectionError("connection to 127.0.0.1:5432 refused")

    state = status.monitoring(refuse)
    assert state == {"unavailable": "connection to 127.0.0.1:5432 refused"}
    rendered = status.render({"model_name": "m", "tracking_uri": "u", "history": [], "monitoring": state})
    assert "monitoring unavailable: connection to 127.0.0.1:5432 refused" in rendered
