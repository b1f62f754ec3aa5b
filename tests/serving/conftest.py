"""Serving fixtures: a private copy of the trained workspace's registry, apps, live servers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.net import free_port
from tests.support.samples import PASSENGER as PASSENGER  # re-exported for the serving tests
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "test-admin-token-7f3a"


@dataclass(frozen=True)
class ServingState:
    """A state directory whose registry is a private copy (so tests may move its aliases)."""

    root: Path
    state: Path
    artifact_root: Path
    repo: Path

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "state_dir": self.state,
            "tracking_uri": f"sqlite:///{self.state / 'mlflow' / 'mlflow.db'}",
            "artifact_root": str(self.artifact_root),
            "feature_repo": self.repo,
            "admin_token": ADMIN_TOKEN,
            "reload_interval_seconds": 0.5,
            **overrides,
        }
        return Settings(**values)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TITANIC_MLOPS_", "PROMETHEUS_MULTIPROC"))
        }
        s = self.settings()
        env.update(
            {
                "TITANIC_MLOPS_STATE_DIR": str(self.state),
                "TITANIC_MLOPS_TRACKING_URI": s.resolved_tracking_uri,
                "TITANIC_MLOPS_ARTIFACT_ROOT": str(self.artifact_root),
                "TITANIC_MLOPS_FEATURE_REPO": str(self.repo),
                "TITANIC_MLOPS_ADMIN_TOKEN": ADMIN_TOKEN,
                "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": "0.5",
                "MLFLOW_ENABLE_TELEMETRY": "false",
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
                **overrides,
            }
        )
        return env

    def registry(self) -> Registry:
        s = self.settings()
        return Registry(s.resolved_tracking_uri, s.resolved_artifact_root, s.model_name)


def make_serving_state(workspace: Any, root: Path) -> ServingState:
    """Copy the registry database (the artifacts stay shared, read-only) and link the store."""
    state = root / "state"
    (state / "mlflow").mkdir(parents=True)
    source = sqlite3.connect(workspace.state / "mlflow" / "mlflow.db")
    target = sqlite3.connect(state / "mlflow" / "mlflow.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    (state / "feast").symlink_to(workspace.state / "feast", target_is_directory=True)
    return ServingState(root, state, workspace.state / "mlflow" / "artifacts", workspace.repo)


@pytest.fixture(scope="session")
def serving_state(trained_workspace: Any, tmp_path_factory: pytest.TempPathFactory) -> ServingState:
    """Shared and read-only: tests that move aliases make their own with `make_serving_state`."""
    return make_serving_state(trained_workspace, tmp_path_factory.mktemp("serving"))


def wait_ready(get: Any, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = get("/ready")
            if response.status_code == 200:
                return dict(response.json())
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"the API was not ready within {timeout:.0f} s")


@pytest.fixture(scope="module")
def client(serving_state: ServingState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with its lifespan, a fresh prediction log, and a loaded champion."""
    from serving.app import create_app

    log = tmp_path_factory.mktemp("log") / "predictions.db"
    app = create_app(serving_state.settings(prediction_log_url=f"sqlite:///{log}", max_batch_size=50))
    with TestClient(app) as test_client:
        wait_ready(test_client.get)
        yield test_client


class LiveServer:
    """`titanic-mlops serve` in a subprocess on a free port; always stopped on exit."""

    def __init__(self, state: ServingState, log_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = state.env(**env)
        self.output = log_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        command = [
            sys.executable,
            "-m",
            "titanic_mlops.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_ready(lambda path: httpx.get(self.url + path, timeout=5))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.output.read_text(errors="replace")
