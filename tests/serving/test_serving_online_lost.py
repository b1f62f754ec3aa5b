"""An emptied online store is visible: `/ready` says "degraded" and why, `/metrics` counts the
defaulted group sizes, and predictions go on."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from .conftest import PASSENGER, ServingState, make_serving_state, wait_ready


def test_an_emptied_online_store_makes_ready_say_degraded(trained_workspace: Any, tmp_path: Path) -> None:
    from serving.app import create_app

    state = make_serving_state(trained_workspace, tmp_path)
    feast = state.state / "feast"
    feast.unlink()  # a private copy of the store instead of the shared link
    shutil.copytree(trained_workspace.state / "feast", feast)
    with sqlite3.connect(feast / "online_store.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            db.execute(f'DROP TABLE "{table}"')
    app = create_app(_settings(state, tmp_path))
    with TestClient(app) as client:
        wait_ready(client.get)
        deadline = time.monotonic() + 120
        while app.state.runtime.online_store == "unchecked":
            assert time.monotonic() < deadline, "the online store was never checked"
            time.sleep(0.05)  # polling a condition, with a deadline
        ready = client.get("/ready")
        assert ready.status_code == 200  # a model serves; every replica out of rotation would be worse
        assert ready.json()["status"] == "degraded"
        assert "empty or unavailable" in ready.json()["online_store"]
        assert client.post("/predict", json={"instances": [PASSENGER]}).status_code == 200
        metrics = client.get("/metrics").text
        assert re.search(r"^titanic_online_store_ok 0\.0$", metrics, re.MULTILINE)
        # Its group size defaulted to 1, and was counted. At least once, not exactly: once feast is
        # imported before prometheus_client (as in this test process, not in the API's), values
        # are kept per process, so another app's earlier counts can show here too.
        assert _defaulted(metrics) >= 1


def _defaulted(metrics: str) -> float:
    found = re.search(
        r'^titanic_defaulted_features_total\{feature="ticket_group_size"\} (\S+)$', metrics, re.MULTILINE
    )
    return float(found.group(1)) if found else 0.0


def _settings(state: ServingState, tmp_path: Path) -> Any:
    return state.settings(prediction_log_url=f"sqlite:///{tmp_path / 'log.db'}")
