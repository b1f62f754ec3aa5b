"""Bad feedback never reaches training: the retraining refuses it with a recorded reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.samples import BRAUND, VECTOR
from tests.support.workspace import Workspace
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain.records import RetrainingOutcome, RetrainingRefusedEvent
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.retrain import retrain
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import LoggedPrediction
from titanic_mlops.stores.sqlite_log import SqlitePredictionLog

pytestmark = pytest.mark.slow


def log_rows(path: Path, n: int, first_id: int, sibsp: int) -> None:
    log = SqlitePredictionLog(path)
    rows = [
        LoggedPrediction(
            request_id="r",
            model_name="titanic-survival",
            model_version="1",
            passenger_id=first_id + i,
            record={
                **BRAUND,
                "PassengerId": first_id + i,
                "Name": "Doe, Mr. John",
                "Age": 30.0,
                "SibSp": sibsp,
            },
            inputs=VECTOR,
            probability=0.2,
            survived=0,
            latency_ms=1.0,
        )
        for i in range(n)
    ]
    for prediction_id in log.append(rows):
        log.add_feedback(1, prediction_id=prediction_id)
    log.close()


def run(ws: Workspace) -> RetrainingOutcome:
    return retrain(Deployment(), ws.root, load_params(ws.layout.params), "drift")


def test_rows_breaking_the_contract_and_too_few_rows_stop_before_training(
    workspace_env: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace's champion, and every other store in a state directory of this test's own."""
    ws, state = workspace_env, tmp_path / "state"
    registry = Deployment().registry()
    monkeypatch.setenv("TITANIC_MLOPS_STATE_DIR", str(state))
    monkeypatch.setenv("TITANIC_MLOPS_TRACKING_URI", registry.tracking_uri)
    monkeypatch.setenv("TITANIC_MLOPS_ARTIFACT_ROOT", registry.artifact_root)
    champion = registry.require(CHAMPION).version
    log_rows(state / "predictions.db", 60, first_id=500_000, sibsp=20)

    refused = run(ws)
    assert refused.promoted is False and "SibSp" in refused.reason
    assert json.loads((state / "monitoring" / "retraining.json").read_text()) == {"cursor": 60}

    log_rows(state / "predictions.db", 10, first_id=600_000, sibsp=0)
    too_few = run(ws)
    assert "fewer than min_feedback_rows" in too_few.reason
    assert json.loads((state / "monitoring" / "retraining.json").read_text()) == {"cursor": 60}

    assert not list(ws.path("data/feedback").glob("*.csv"))
    assert registry.require(CHAMPION).version == champion
    events = history.read(state / "history.jsonl")
    assert [(type(e), e.trigger) for e in events] == [(RetrainingRefusedEvent, "drift")] * 2
