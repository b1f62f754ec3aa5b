"""The `retrain` deployment on a real Prefect server: the drift event starts it, once at a time.

A Prefect server, a process serving the `retrain` deployment (its trigger and concurrency limit
exactly as `titanic-mlops worker` builds them, around a flow that holds its slot), and two
`titanic.drift.detected` events sent at once: one flow run runs with the event's id and payload
as parameters, the other is cancelled, never run beside it. Then the worker is killed mid-run:
the orphan ends (CANCELLED by Prefect, or CRASHED by the new worker) and the next event's
retraining starts clean.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.net import free_port
from tests.support.workspace import ROOT

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent

SERVE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines.retraining import retrain_deployment
    from pipelines.worker import serve_deployments
    from tests.pipelines.loop_flows import hold_retraining

    serve_deployments(retrain_deployment(Path(sys.argv[1]), "titanic-survival", hold_retraining))
    """
)
EMIT_TWO = textwrap.dedent(
    """
    import sys
    from prefect.events import emit_event
    from prefect.events.clients import get_events_client
    resource = {"prefect.resource.id": "titanic.model.titanic-survival"}
    for event_id in sys.argv[1:]:
        emit_event(
            event="titanic.drift.detected", resource=resource, id=event_id,
            payload={"monitor_flow_run_id": "m-" + event_id[:8], "window_ids": [1, 150], "drift_share": 0.5},
        )
    """
)


def wait_for(
    condition: Callable[[], Any], what: str, seconds: float, process: subprocess.Popen[bytes]
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = condition()
            if value:
                return value
        assert process.poll() is None, f"a process exited while waiting for {what}"
        time.sleep(0.5)
    pytest.fail(f"no {what} within {seconds:.0f} s")


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def test_two_drift_events_at_once_run_one_retraining_and_a_restart_starts_clean(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PYTHONPATH": str(ROOT),
    }
    server_cmd = [
        str(BIN / "prefect"),
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-ui",
    ]
    with started(server_cmd, env, tmp_path / "server.log") as server:
        wait_for(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, "server", 180, server)
        with started([sys.executable, "-c", SERVE, str(tmp_path)], env, tmp_path / "worker.log") as worker:
            automations = wait_for(
                lambda: httpx.post(f"{api}/automations/filter", json={}, timeout=5).json(),
                "automation of the retrain trigger",
                180,
                worker,
            )
            assert automations[0]["trigger"]["expect"] == ["titanic.drift.detected"]
            ids = [str(uuid.uuid4()), str(uuid.uuid4())]
            subprocess.run([sys.executable, "-c", EMIT_TWO, *ids], cwd=ROOT, env=env, check=True, timeout=120)

            def runs() -> list[dict[str, Any]]:
                answer = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=5).json()
                return [r for r in answer if r["deployment_id"]]

            def one_running_one_cancelled() -> list[dict[str, Any]] | None:
                found = runs()
                states = sorted(r["state_type"] for r in found)
                return found if states == ["CANCELLED", "RUNNING"] else None

            found = wait_for(one_running_one_cancelled, "one running and one cancelled run", 180, worker)
            running = next(r for r in found if r["state_type"] == "RUNNING")
            assert running["parameters"]["event_id"] in ids
            assert running["parameters"]["window_ids"] == [1, 150]
            assert running["parameters"]["workspace"] == str(tmp_path)

        # The worker dies mid-retraining (its process group, flow run included, killed with it).
        def state_of(run_id: str) -> str:
            return str(httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state_type"])

        with started([sys.executable, "-c", SERVE, str(tmp_path)], env, tmp_path / "worker2.log") as worker:
            # Prefect's own control channel cancels a run whose runner died; a run it missed is
            # marked CRASHED by the new worker's reconcile. Either way it holds no slot.
            ended = ("CANCELLED", "CRASHED")
            wait_for(lambda: state_of(running["id"]) in ended, "the orphan ended", 180, worker)
            third = str(uuid.uuid4())
            subprocess.run(
                [sys.executable, "-c", EMIT_TWO, third], cwd=ROOT, env=env, check=True, timeout=120
            )

            def fresh_run() -> dict[str, Any] | None:
                return next((r for r in runs() if r["parameters"].get("event_id") == third), None)

            wait_for(
                lambda: (fresh_run() or {}).get("state_type") == "RUNNING", "a clean next run", 180, worker
            )
            (tmp_path / "release").write_text("")
            wait_for(
                lambda: (fresh_run() or {}).get("state_type") == "COMPLETED", "it to complete", 120, worker
            )
    started_files = sorted(p.name for p in tmp_path.glob("started-*"))
    assert started_files == sorted([f"started-{running['parameters']['event_id']}", f"started-{third}"])
