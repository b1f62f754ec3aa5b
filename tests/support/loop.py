"""The closed loop's test harness: a private DVC workspace, a real API process, traffic and load.

Shared by the embedded loop (tests/e2e/test_loop.py) and the production-profile loop
(tests/services/test_production_loop.py), which differ only in the environment they pass.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
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

from tests.support.net import free_port
from tests.support.workspace import ROOT
from titanic_mlops.adapters import api_client
from titanic_mlops.cli.main import main
from titanic_mlops.domain import scenarios, traffic
from titanic_mlops.services import ingest
from titanic_mlops.services.workspace import create_dvc_workspace

BIN = Path(sys.executable).parent
ROWS = 150
# Store settings a developer's shell may carry; the loop's environment decides them itself.
STORE_VARIABLES = (
    "TITANIC_MLOPS_PROFILE",
    "TITANIC_MLOPS_TRACKING_URI",
    "TITANIC_MLOPS_ARTIFACT_ROOT",
    "TITANIC_MLOPS_PREDICTION_LOG_URL",
    "TITANIC_MLOPS_MONITORING_URL",
    "TITANIC_MLOPS_LOCK_URL",
)


@dataclass(frozen=True)
class Loop:
    work: Path
    state: Path
    url: str
    env: dict[str, str]


@contextlib.contextmanager
def running_loop(
    root: Path, stores: dict[str, str], experiment_mode: str = "off", **experiment: Any
) -> Iterator[Loop]:
    """`dvc repro` in a fresh workspace (search narrowed to one GB model), then the API on a port.

    `experiment` overrides keys of params.yaml's `experiment:` (a lower `max_labelled_rows`, say)."""
    work = create_dvc_workspace(root / "work", ROOT, root / "dvc-remote")
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["train"]["cv_folds"] = 3
    params["train"]["candidates"] = {
        "gradient_boosting": {"n_estimators": [100], "max_depth": [3], "learning_rate": [0.1]}
    }
    params["experiment"]["mode"] = experiment_mode  # "off": the loop tests judge the single-stage gate
    params["experiment"].update(experiment)
    # ... without its fairness checks: a model retrained on the concept scenario's drifted world
    # is legitimately less even across classes, which tests/domain/test_fairness.py judges.
    params["promote"].pop("fairness", None)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    state = root / "state"
    env = {
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "TITANIC_MLOPS_FEATURE_REPO": str(work / "feature_repo"),
        "PREFECT_HOME": str(state / "prefect"),
        "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": "1",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        **stores,
    }
    full_env = {k: v for k, v in os.environ.items() if k not in STORE_VARIABLES} | env
    subprocess.run([str(BIN / "dvc"), "repro", "-q"], cwd=work, env=full_env, check=True)
    port = free_port()
    log_path = state / "logs" / "api.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as api_log:
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
            assert api.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail("the API never became ready")
        yield Loop(work, state, url, env)
    finally:
        api.terminate()
        api.wait(timeout=30)


def enter(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> Loop:
    """This process sees the loop's environment (for in-process CLI calls)."""
    for key in STORE_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    for key, value in loop.env.items():
        monkeypatch.setenv(key, value)
    return loop


def send(loop: Loop, scenario: str, seed: int, rows: int = ROWS, **changes: Any) -> api_client.SendResult:
    snapshot = ingest.read_raw_csv(loop.work / "data/external/titanic/train.csv", labelled=True)
    drawn = traffic.draw(snapshot, scenarios.get(scenario), rows, seed)
    for column, value in changes.items():
        drawn[column] = value
    result = api_client.send(loop.url, drawn, scenario)
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


def shadowed(url: str) -> str | None:
    """The challenger version the API scores in shadow, or None."""
    experiment = httpx.get(f"{url}/model", timeout=10).json().get("experiment") or {}
    return (experiment.get("challenger") or {}).get("version") if experiment.get("mode") == "shadow" else None


def experiment_status() -> dict[str, Any]:
    """`status --json`'s `experiment` (in-process, in the loop's environment)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--json"]) == 0
    shown: dict[str, Any] = json.loads(out.getvalue())["experiment"]
    return shown


def steady_body(loop: Loop) -> dict[str, Any]:
    snapshot = ingest.read_raw_csv(loop.work / "data/external/titanic/train.csv", labelled=True)
    return {"instances": traffic.records(traffic.draw(snapshot, scenarios.get("none"), 5, seed=99))}


@dataclass
class Load:
    """Steady /predict traffic in a thread: every answer's version, every failure.

    An answer fails when it is not a 200 or does not name the version that answered (the body's
    `model_version` and, while an experiment runs, each prediction's). `pause` paces the client
    (it waits on the stop event, so stopping is immediate)."""

    url: str
    pause: float = 0.05
    versions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/predict", json=body)
                    if response.status_code == 200:
                        self._answered(response.json())
                    else:
                        self.failures.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.stop.wait(self.pause)

    def _answered(self, answer: dict[str, Any]) -> None:
        version = answer.get("model_version")
        named = [p.get("model_version", version) for p in answer.get("predictions", [])]
        if not version or not all(named):
            self.failures.append(f"an answer without its model version: {str(answer)[:200]}")
            return
        self.versions.append(str(version))

    @contextlib.contextmanager
    def running(self, body: dict[str, Any]) -> Iterator[Load]:
        worker = threading.Thread(target=self.run, args=(body,), daemon=True)
        worker.start()
        try:
            yield self
        finally:
            self.stop.set()
            worker.join(timeout=30)

    def wait_for(self, version: str, timeout: float = 60.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline and (not self.versions or self.versions[-1] != version):
            time.sleep(0.5)


def drift_until_retrained(loop: Loop, champion: str) -> dict[str, Any]:
    """Concept drift with labels: the first window alarms, the second confirms and retrains, and
    the API follows the new champion under steady load with no failed request. Returns the second
    cycle's result."""
    workspace = ["--workspace", str(loop.work)]
    send(loop, "concept", seed=4)
    first = cli_json("monitor", "--json", *workspace)
    assert first["action"] == "none" and first["quality_breach"], first
    send(loop, "concept", seed=5)
    with Load(loop.url).running(steady_body(loop)) as load:
        second = cli_json("monitor", "--json", *workspace)
        assert second["action"] == "retrain", second
        assert second["promoted"] is True, second["reason"]
        load.wait_for(second["new_version"])
    assert load.versions[-1] == second["new_version"], "the API did not follow the champion within a minute"
    assert champion in load.versions and load.failures == [], load.failures[:5]
    return second
