"""The loop drives itself: `make up`'s Prefect server and worker, traffic, and nothing else typed.

A private DVC workspace and a real API (tests/support/loop.py), then `scripts/services.py up
--only prefect,worker` with a 5 s monitoring interval: clean traffic gives monitoring runs and no
retraining; two concept windows give a `retrain` flow run started by the drift event and a new
champion the API serves with no failed request; `down` leaves no process of the stack. Every
wait is a condition on the Prefect API, the history or the API, with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.loop import Load, Loop, enter, running_loop, send, served_version, steady_body
from tests.support.net import free_port
from tests.support.workspace import ROOT
from titanic_mlops.domain.records import RetrainingEvent
from titanic_mlops.stores import history

pytestmark = pytest.mark.slow
SERVICES = [sys.executable, str(ROOT / "scripts" / "services.py")]


def wait_for(what: str, condition: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = condition()
            if value:
                return value
        time.sleep(0.5)
    pytest.fail(f"no {what} within {seconds:.0f} s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Loop, str]]:
    with running_loop(tmp_path_factory.mktemp("self-driving"), {}) as loop:
        port = free_port()
        env = {
            **os.environ,
            **loop.env,
            "PREFECT_PORT": str(port),
            "TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS": "5",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        up = [*SERVICES, "up", "--state", str(loop.state), "--workspace", str(loop.work), "--timeout", "300"]
        subprocess.run([*up, "--only", "prefect,worker"], env=env, check=True)
        try:
            yield loop, f"http://127.0.0.1:{port}/api"
        finally:
            down = subprocess.run(
                [*SERVICES, "down", "--state", str(loop.state)], env=env, capture_output=True, text=True
            )
            assert "worker" in down.stdout and "prefect" in down.stdout


def monitor_runs(api: str) -> list[dict[str, Any]]:
    runs = httpx.post(f"{api}/flow_runs/filter", json={"sort": "START_TIME_DESC"}, timeout=10).json()
    return [r for r in runs if r["name"].startswith("monitor-") and r["state_type"] == "COMPLETED"]


def judged_up_to(api: str, last_id: int) -> bool:
    """A completed monitoring run named `monitor-<first>-<last>` judged past `last_id`."""
    ends = [int(r["name"].rsplit("-", 1)[1]) for r in monitor_runs(api) if r["name"].count("-") == 2]
    return any(end >= last_id for end in ends)


def loop_in_status(loop: Loop) -> dict[str, Any] | None:
    """`status --json` as a user runs it (no PREFECT_API_URL: the worker's pointer names the server)."""
    env = {k: v for k, v in {**os.environ, **loop.env}.items() if k != "PREFECT_API_URL"}
    answer = subprocess.run(
        [str(Path(sys.executable).parent / "titanic-mlops"), "status", "--json"],
        cwd=loop.work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    shown: dict[str, Any] = json.loads(answer.stdout)["loop"]
    return shown if shown.get("last_monitoring_run") and shown.get("next_monitoring_run") else None


def retrainings(state: Path) -> list[RetrainingEvent]:
    return [e for e in history.read(state / "history.jsonl") if isinstance(e, RetrainingEvent)]


def test_drift_leads_to_a_served_new_champion_with_no_command_typed(
    stack: tuple[Loop, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    loop, api = stack
    enter(loop, monkeypatch)

    def registered() -> dict[str, Any] | None:  # the worker registers them once it has imported
        found = {d["name"]: d for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()}
        return found if {"monitor", "retrain"} <= set(found) else None

    deployments = wait_for("the monitor and retrain deployments", registered, 300)
    assert deployments["monitor"]["schedules"][0]["schedule"]["interval"] == 5.0
    automation = wait_for(
        "the retrain automation",
        lambda: httpx.post(f"{api}/automations/filter", json={}, timeout=10).json(),
        120,
    )[0]
    assert automation["trigger"]["expect"] == ["titanic.drift.detected"]
    shown = wait_for("the loop in `titanic-mlops status`", lambda: loop_in_status(loop), 180)
    assert shown["prefect_api_url"] == api and shown["monitor_schedule_seconds"] == 5.0
    champion = served_version(loop.url)

    for seed in (1, 2):  # clean traffic: monitoring runs, no retraining
        send(loop, "none", seed)
        wait_for("a monitoring run judging the clean window", lambda s=seed: judged_up_to(api, s * 150), 600)
    assert retrainings(loop.state) == []

    send(loop, "concept", seed=4)
    wait_for(
        "the first concept window judged",
        lambda: [r for r in monitor_runs(api) if r["name"].endswith("-450")],
        600,
    )
    send(loop, "concept", seed=5)
    with Load(loop.url).running(steady_body(loop)) as load:
        event = wait_for("a drift-triggered retraining", lambda: retrainings(loop.state), 900)[0]
        assert event.promoted, event.reason
        load.wait_for(str(event.new_version), timeout=120)
    assert load.versions[-1] == event.new_version != champion
    assert load.failures == [], load.failures[:5]
    assert event.origin is not None and event.origin.event_id and event.origin.monitor_flow_run_id
    retrain_run = httpx.get(f"{api}/flow_runs/{event.origin.retrain_flow_run_id}", timeout=10).json()
    assert retrain_run["name"] == f"retrain-drift-v{event.new_version}"
    assert retrain_run["parameters"]["event_id"] == event.origin.event_id
    assert retrain_run["deployment_id"] == deployments["retrain"]["id"]
