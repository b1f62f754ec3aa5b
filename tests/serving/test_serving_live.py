"""A real `titanic-mlops serve` process: live swap under load, a tampered version refused, the
prediction log under concurrent clients and across a restart."""

from __future__ import annotations

import itertools
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from titanic_mlops.adapters import onnx_graph as onnx_model
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import dataset, features, training
from titanic_mlops.domain.versions import CHAMPION, ModelRef

from .conftest import ADMIN_TOKEN, PASSENGER, LiveServer, ServingState, make_serving_state

pytestmark = pytest.mark.slow


def register_refit(registry: Registry, workspace: Any, tmp: Path, c: float) -> ModelRef:
    """A second registered version: logistic regression refit on the holdout, logged as training does."""
    holdout = pd.read_parquet(workspace.path("data/holdout/holdout.parquet"))
    inputs, labels = dataset.inputs_and_labels(holdout)
    pipeline = training.build_pipeline(LogisticRegression(C=c, max_iter=2000)).fit(inputs, labels)
    artifacts = tmp / f"evaluation-{c}"
    artifacts.mkdir()
    (artifacts / "note.txt").write_text("refit for a serving test\n")
    return registry.log_candidate(
        pipeline,
        onnx_model.to_onnx(pipeline),
        inputs,
        params={"family": "logistic_regression", "model.C": c},
        metrics={"holdout_accuracy": 0.8},
        artifacts=artifacts,
        tags={"feature_names": ",".join(features.MODEL_INPUTS)},
    )


def log_rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT id FROM predictions ORDER BY id")]


def test_log_loses_no_row_under_concurrent_clients_and_survives_a_restart(
    serving_state: ServingState, tmp_path: Path
) -> None:
    log = tmp_path / "predictions.db"
    url = f"sqlite:///{log}"
    requests, per_request = 80, 2
    with LiveServer(serving_state, tmp_path, TITANIC_MLOPS_PREDICTION_LOG_URL=url) as server:

        def send(i: int) -> list[int]:
            body = {"instances": [{**PASSENGER, "PassengerId": 2000 + i}] * per_request}
            response = httpx.post(server.url + "/predict", json=body, timeout=30)
            assert response.status_code == 200, response.text
            return [p["prediction_id"] for p in response.json()["predictions"]]

        with ThreadPoolExecutor(max_workers=8) as pool:
            answered = [pid for ids in pool.map(send, range(requests)) for pid in ids]
        metrics = httpx.get(server.url + "/metrics").text
    assert len(answered) == len(set(answered)) == requests * per_request
    assert sorted(answered) == log_rows(log)
    assert f"titanic_prediction_log_rows_total {requests * per_request}.0" in metrics

    with LiveServer(serving_state, tmp_path, TITANIC_MLOPS_PREDICTION_LOG_URL=url) as server:
        again = httpx.post(server.url + "/predict", json={"instances": [PASSENGER]}, timeout=30).json()
        fed = httpx.post(
            server.url + "/feedback", json={"prediction_id": answered[0], "survived": 1}, timeout=30
        )
    assert again["predictions"][0]["prediction_id"] > max(answered)
    assert fed.status_code == 200  # a prediction logged before the restart still takes feedback
    assert len(log_rows(log)) == requests * per_request + 1


class Load:
    """One client thread sending single-passenger predictions until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.versions: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post("/predict", json={"instances": [PASSENGER]})
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text}")
                else:
                    self.versions.append(response.json()["model_version"])

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def wait_more(self, answers: int, timeout: float = 120) -> None:
        """Until `answers` more predictions came back (a count of answers, not a time window)."""
        wanted, deadline = len(self.versions) + answers, time.monotonic() + timeout
        while len(self.versions) < wanted:
            assert time.monotonic() < deadline, f"only {len(self.versions)} of {wanted} answers"
            assert not self.failures, self.failures
            time.sleep(0.05)  # polling a condition, with a deadline

    def wait_for(self, version: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.versions and self.versions[-1] == version:
                return
            time.sleep(0.2)
        raise AssertionError(f"version {version} never answered; saw {sorted(set(self.versions))}")


def changes(versions: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(versions) if a != b)


def test_moving_the_alias_swaps_live_and_a_tampered_version_is_refused(
    trained_workspace: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("swap")
    state = make_serving_state(trained_workspace, tmp)
    registry = state.registry()
    second = register_refit(registry, trained_workspace, tmp, c=0.5)
    third = register_refit(registry, trained_workspace, tmp, c=2.0)
    onnx = state.artifact_root / third.run_id / "artifacts" / "onnx" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\x00")  # tampered after registration

    with LiveServer(state, tmp) as server:
        with Load(server.url) as load:
            load.wait_for("1", timeout=60)
            registry.set_alias(CHAMPION, second.version)
            load.wait_for(second.version, timeout=240)
            load.wait_more(20)
        assert load.failures == []
        assert load.versions[0] == "1" and load.versions[-1] == second.version
        assert changes(load.versions) == 1, sorted(set(load.versions))

        with Load(server.url) as load:
            registry.set_alias(CHAMPION, third.version)
            reload = httpx.post(
                server.url + "/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=240
            ).json()
            load.wait_more(20)
        assert reload["result"] == "refused" and "tampered" in reload["reason"]
        assert load.failures == [] and set(load.versions) == {second.version}
        model = httpx.get(server.url + "/model").json()
        metrics = httpx.get(server.url + "/metrics").text
    assert model["version"] == second.version and model["refused"]["version"] == third.version
    assert re.search(r'^titanic_model_reloads_total\{result="refused"\} [1-9]', metrics, re.MULTILINE)
    assert re.search(r'^titanic_model_reloads_total\{result="swapped"\} 2\.0', metrics, re.MULTILINE)
    info = f'name="titanic-survival",run_id="{second.run_id}",version="{second.version}"'
    assert f"titanic_model_info{{{info}}} 1.0" in metrics
