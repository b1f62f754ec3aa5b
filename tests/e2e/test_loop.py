"""The closed loop against a real API process: clean traffic, bad feedback, concept drift,
drift-triggered retraining through `dvc repro` and the gate, a swap under load, a rollback.

Runs in a private DVC workspace (titanic_mlops.workspace), so `dvc repro` is the real one; the
model search is narrowed in that workspace's params.yaml to keep the test within minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT
from titanic_mlops import history, ingest, scenarios, simulate
from titanic_mlops.cli import main
from titanic_mlops.workspace import create_dvc_workspace

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
ROWS = 150


@dataclass(frozen=True)
class Loop:
    work: Path
    state: Path
    url: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("loop")
    work = create_dvc_workspace(root / "work", ROOT, root / "dvc-remote")
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["train"]["cv_folds"] = 3
    params["train"]["candidates"] = {
        "gradient_boosting": {"n_estimators": [100], "max_depth": [3], "learning_rate": [0.1]}
    }
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    state = root / "state"
    env = {
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "TITANIC_MLOPS_FEATURE_REPO": str(work / "feature_repo"),
        "PREFECT_HOME": str(state / "prefect"),
        "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": "1",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    full_env = {**os.environ, **env}
    for key in (
        "TITANIC_MLOPS_TRACKING_URI",
        "TITANIC_MLOPS_ARTIFACT_ROOT",
        "TITANIC_MLOPS_PREDICTION_LOG_URL",
    ):
        full_env.pop(key, None)
    subprocess.run([str(BIN / "dvc"), "repro", "-q"], cwd=work, env=full_env, check=True)
    port = free_port()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    with (state / "logs" / "api.log").open("w") as api_log:
        api = subprocess.Popen(
            [str(BIN / "titanic-mlops"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work,
            env=full_env,
            stdout=api_log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            assert api.poll() is None, (state / "logs" / "api.log").read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail("the API never became ready")
        yield Loop(work, state, url, env)
    finally:
        api.terminate()
        api.wait(timeout=30)


@pytest.fixture
def loop_env(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> Loop:
    for key, value in loop.env.items():
        monkeypatch.setenv(key, value)
    for key in (
        "TITANIC_MLOPS_TRACKING_URI",
        "TITANIC_MLOPS_ARTIFACT_ROOT",
        "TITANIC_MLOPS_PREDICTION_LOG_URL",
    ):
        monkeypatch.delenv(key, raising=False)
    return loop


def send(loop: Loop, scenario: str, seed: int, rows: int = ROWS, **changes: Any) -> simulate.SendResult:
    snapshot = ingest.read_raw_csv(loop.work / "data/external/titanic/train.csv", labelled=True)
    traffic = simulate.draw(snapshot, scenarios.get(scenario), rows, seed)
    for column, value in changes.items():
        traffic[column] = value
    result = simulate.send(loop.url, traffic, scenario)
    assert result.failed_requests == 0, result.errors
    return result


def cli_json(*argv: str) -> dict[str, Any]:
    """Run a subcommand in-process; its last stdout line is one JSON object."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def served_version(url: str) -> str:
    return str(httpx.get(f"{url}/ready", timeout=5).json()["model_version"])


@dataclass
class Load:
    """Steady /predict traffic in a thread: every answer's version, every failure."""

    url: str
    versions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/predict", json=body)
                    if response.status_code == 200:
                        self.versions.append(str(response.json()["model_version"]))
                    else:
                        self.failures.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(0.05)


def test_the_loop_retrains_on_concept_drift_and_the_api_follows(loop_env: Loop) -> None:
    loop = loop_env
    workspace = ["--workspace", str(loop.work)]
    champion = served_version(loop.url)

    # Three undrifted windows: no action.
    for seed in (1, 2, 3):
        send(loop, "none", seed)
        result = cli_json("monitor", "--json", *workspace)
        assert result["action"] == "none", result
        assert not result["drift_detected"] and result["drifted_columns"] <= 2

    # Bad feedback never reaches training: a label outside 0/1 is refused at the door ...
    rejected = httpx.post(f"{loop.url}/feedback", json={"prediction_id": 1, "survived": 2}, timeout=10)
    assert rejected.status_code == 422
    # ... and rows the API accepts but the data contract refuses (SibSp 20 > 10) stop retraining.
    send(loop, "concept", seed=9, rows=60, SibSp=20)
    refused = cli_json("retrain", *workspace, "--trigger", "drift")
    assert refused["promoted"] is False and "SibSp" in refused["reason"], refused
    assert not list((loop.work / "data/feedback").glob("*.csv"))
    assert served_version(loop.url) == champion

    # Concept drift with labels: the first window alarms, the second confirms and retrains.
    send(loop, "concept", seed=4)
    first = cli_json("monitor", "--json", *workspace)
    assert first["action"] == "none" and first["quality_breach"], first
    send(loop, "concept", seed=5)
    snapshot = ingest.read_raw_csv(loop.work / "data/external/titanic/train.csv", labelled=True)
    body = {"instances": simulate.records(simulate.draw(snapshot, scenarios.get("none"), 5, seed=99))}
    load = Load(loop.url)
    worker = threading.Thread(target=load.run, args=(body,), daemon=True)
    worker.start()
    try:
        second = cli_json("monitor", "--json", *workspace)
        assert second["action"] == "retrain", second
        assert second["promoted"] is True, second["reason"]
        new_version = second["new_version"]
        promoted_at = time.time()
        while time.time() - promoted_at < 60 and (not load.versions or load.versions[-1] != new_version):
            time.sleep(0.5)
    finally:
        load.stop.set()
        worker.join(timeout=30)
    assert load.versions[-1] == new_version, "the API did not follow the champion within a minute"
    assert champion in load.versions and load.failures == [], load.failures[:5]
    assert len(list((loop.work / "data/feedback").glob("*.csv"))) == 1

    events = history.read(loop.state / "history.jsonl")
    kinds = [(e["event"], e.get("trigger")) for e in events]
    assert ("monitoring", "drift") in kinds and ("retraining_refused", "drift") in kinds
    assert ("retraining", "drift") in kinds and ("promotion", "drift") in kinds
    promotion = [e for e in events if e["event"] == "promotion" and e["trigger"] == "drift"][-1]
    assert promotion["promoted"] and "recent" in promotion["metrics"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--json"]) == 0
    status = json.loads(out.getvalue())
    assert status["champion"]["version"] == new_version
    assert any(e.get("trigger") == "drift" and e["event"] == "retraining" for e in status["history"])

    # Rollback: champion goes back, the API follows.
    assert main(["rollback", "--reason", "e2e rollback"]) == 0
    deadline = time.time() + 60
    while time.time() < deadline and served_version(loop.url) != champion:
        time.sleep(0.5)
    assert served_version(loop.url) == champion
