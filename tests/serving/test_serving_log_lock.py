"""Another process holds the log's write lock: `/health` stays fast, `/predict` answers 503, then 200."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import PASSENGER, ServingState, wait_ready

HOLD = (
    "import sqlite3, sys\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "db.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def locked_app(serving_state: ServingState, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    from serving.app import create_app

    log = tmp_path / "predictions.db"
    settings = serving_state.settings(prediction_log_url=f"sqlite:///{log}", log_write_timeout_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        wait_ready(client.get)
        yield client, log


def _hold_lock(log: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(log)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_held_write_lock_gives_503_while_health_stays_fast_then_200(
    locked_app: tuple[TestClient, Path],
) -> None:
    client, log = locked_app
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    holder = _hold_lock(log)
    try:
        outcome: dict[str, httpx.Response] = {}
        worker = threading.Thread(
            target=lambda: outcome.update(r=client.post("/predict", json={"instances": [PASSENGER]}))
        )
        worker.start()
        deadline = time.monotonic() + 10
        while runtime.writer.queued == 0 and "r" not in outcome:
            assert time.monotonic() < deadline, "the prediction never reached the log writer"
            time.sleep(0.005)  # polling a condition, with a deadline
        times = []
        while worker.is_alive():
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            times.append(time.perf_counter() - started)
        worker.join()
        # A loop blocked by the log would hold every /health for the whole wait (0.5 s): the median
        # shows it, and one unlucky sample on a loaded machine does not.
        median = statistics.median(times)
        assert len(times) >= 3 and median < 0.1, (
            f"/health took {median * 1000:.0f} ms (median of {len(times)})"
        )
        assert outcome["r"].status_code == 503, outcome["r"].text
        assert "did not confirm within 0.5 s" in outcome["r"].json()["detail"]
        assert client.get("/ready").status_code == 200
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    deadline = time.monotonic() + 30  # the running write finishes once the lock is free
    while runtime.writer.queued:
        assert time.monotonic() < deadline
        time.sleep(0.01)  # polling a condition, with a deadline
    assert client.post("/predict", json={"instances": [PASSENGER]}).status_code == 200
