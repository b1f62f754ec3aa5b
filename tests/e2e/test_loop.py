"""The closed loop against a real API process: clean traffic, bad feedback, concept drift,
drift-triggered retraining through `dvc repro` and the gate, a swap under load, a rollback.

Runs in a private DVC workspace (titanic_mlops.workspace), so `dvc repro` is the real one; the
model search is narrowed in that workspace's params.yaml to keep the test within minutes.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.loop import (
    Loop,
    cli_json,
    drift_until_retrained,
    enter,
    running_loop,
    send,
    served_version,
)
from titanic_mlops.cli.main import main
from titanic_mlops.domain.records import PromotionEvent
from titanic_mlops.stores import history

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with running_loop(tmp_path_factory.mktemp("loop"), {}) as running:
        yield running


@pytest.fixture
def loop_env(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> Loop:
    return enter(loop, monkeypatch)


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
    # ... and rows the API accepts but the data contract refuses (no port of embarkation, far
    # past the 1% null budget of Embarked) stop retraining.
    send(loop, "concept", seed=9, rows=60, Embarked=None)
    refused = cli_json("retrain", *workspace, "--trigger", "drift")
    assert refused["promoted"] is False and "Embarked" in refused["reason"], refused
    assert not list((loop.work / "data/feedback").glob("*.csv"))
    assert served_version(loop.url) == champion

    second = drift_until_retrained(loop, champion)
    new_version = second["new_version"]
    assert len(list((loop.work / "data/feedback").glob("*.csv"))) == 1

    events = history.read(loop.state / "history.jsonl")
    kinds = [(e.event, getattr(e, "trigger", None)) for e in events]
    assert ("monitoring", "drift") in kinds and ("retraining_refused", "drift") in kinds
    assert ("retraining", "drift") in kinds and ("promotion", "drift") in kinds
    promotion = [e for e in events if isinstance(e, PromotionEvent) and e.trigger == "drift"][-1]
    assert promotion.promoted and "recent" in promotion.metrics
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--json"]) == 0
    status = json.loads(out.getvalue())
    assert status["champion"]["version"] == new_version
    assert any(e.get("trigger") == "drift" and e["event"] == "retraining" for e in status["history"])
    assert status["monitoring"]["latest"]["action"] == "retrain"
    assert status["monitoring"]["cursor"] == second["window_ids"][1]
    assert 0 < status["monitoring"]["retraining_cursor"] <= second["window_ids"][1]

    # Rollback: champion goes back, the API follows.
    assert main(["rollback", "--reason", "e2e rollback"]) == 0
    deadline = time.time() + 60
    while time.time() < deadline and served_version(loop.url) != champion:
        time.sleep(0.5)
    assert served_version(loop.url) == champion
