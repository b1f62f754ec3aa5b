"""The challenger beside the champion: shadow answers stay the champion's, canary is sticky, a
failing challenger is dropped while every request succeeds."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.serving.conftest import ServingState, make_serving_state, wait_ready
from tests.support.samples import BRAUND
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain import canary
from titanic_mlops.domain.experiment_records import ExperimentState
from titanic_mlops.domain.params import ExperimentParams, Guardrails
from titanic_mlops.services import experiment


def state_for(version: str, mode: str, min_requests: int = 1000) -> ExperimentState:
    params = ExperimentParams(
        mode=mode,  # type: ignore[arg-type]
        canary_share=0.5,
        alpha=0.05,
        power=0.8,
        min_detectable_effect=0.05,
        non_inferiority_margin=0.01,
        max_labelled_rows=5000,
        guardrails=Guardrails(
            max_challenger_error_rate=0.01,
            max_latency_ratio=1000.0,
            min_guardrail_requests=min_requests,
            sample_ratio_p_value=0.001,
        ),
    )
    return ExperimentState(
        model_name="titanic-survival", challenger_version=version, champion_version=version, params=params,
        baseline_accuracy=0.8, required_rows=700, started_at=time.time(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(
    trained_workspace: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, ServingState]]:
    from serving.app import create_app

    state = make_serving_state(trained_workspace, tmp_path_factory.mktemp("experiment"))
    version = state.registry().require("champion").version
    experiment.write_state(StateLayout(state.state), state_for(version, "shadow"))
    log = state.root / "predictions.db"
    app = create_app(state.settings(prediction_log_url=f"sqlite:///{log}", max_batch_size=100))
    with TestClient(app) as client:
        wait_ready(client.get)
        slot = client.app.state.runtime.challenger  # type: ignore[attr-defined]
        deadline = time.monotonic() + 120
        while slot.current is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slot.current is not None, "the challenger was not loaded"
        yield client, state


def passengers(n: int) -> list[dict[str, Any]]:
    return [{**BRAUND, "PassengerId": 1000 + i} for i in range(n)]


def metric(client: TestClient, variant: str) -> float:
    text = client.get("/metrics").text
    found = re.findall(
        rf'titanic_experiment_predictions_total{{[^}}]*variant="{variant}"[^}}]*}} (\S+)', text
    )
    return sum(float(v) for v in found)


def test_shadow_answers_with_the_champion_and_logs_both(world: Any) -> None:
    client, state = world
    version = state.registry().require("champion").version
    body = client.post("/predict", json={"instances": passengers(3)}).json()
    assert body["model_version"] == version
    assert [p["model_version"] for p in body["predictions"]] == [version] * 3
    ids = [p["prediction_id"] for p in body["predictions"]]
    shadow = client.app.state.runtime.challenger.shadow.for_version(version)  # type: ignore[attr-defined]
    assert set(ids) <= set(shadow["prediction_id"])
    assert metric(client, "shadow") >= 3
    shown = client.get("/model").json()["experiment"]
    assert shown["mode"] == "shadow" and shown["challenger"]["version"] == version


def test_canary_routes_about_the_share_stickily(world: Any) -> None:
    client, state = world
    paths = StateLayout(state.state)
    version = state.registry().require("champion").version
    experiment.write_state(paths, state_for(version, "canary"))
    slot = client.app.state.runtime.challenger  # type: ignore[attr-defined]
    slot.refresh()
    assert slot.current.state.params.mode == "canary"
    before = metric(client, "challenger")
    group = passengers(60)
    expected = sum(canary.canary_variant(p["PassengerId"], "", 0.5) == "challenger" for p in group)
    for _ in range(2):  # the same passengers again: the same split
        response = client.post("/predict", json={"instances": group})
        assert response.status_code == 200
        assert len(response.json()["predictions"]) == 60
        assert [p["passenger_id"] for p in response.json()["predictions"]] == [
            p["PassengerId"] for p in group
        ]
    assert metric(client, "challenger") - before == 2 * expected
    assert 15 < expected < 45


def test_a_failing_challenger_is_dropped_and_no_request_fails(world: Any) -> None:
    client, state = world
    paths = StateLayout(state.state)
    version = state.registry().require("champion").version
    experiment.write_state(paths, state_for(version, "shadow", min_requests=3))
    slot = client.app.state.runtime.challenger  # type: ignore[attr-defined]
    slot.refresh()

    class Broken:
        def probabilities(self, inputs: Any) -> Any:
            raise RuntimeError("challenger exploded")

    loaded = slot.current
    model = loaded.model
    broken = type(model)(type(model.model)(model.model.ref, model.model.engine, Broken()), model.info)
    slot.current = type(loaded)(broken, loaded.state)
    for _ in range(5):
        assert client.post("/predict", json={"instances": passengers(1)}).status_code == 200
    assert slot.current is None
    assert "error rate" in slot.dropped[version]
    assert experiment._guardrail(paths, version) is not None
    slot.refresh()  # a dropped version is not loaded again
    assert slot.current is None
    assert client.get("/model").json()["experiment"]["challenger"] is None
