"""Bad feedback never reaches training: the retraining flow refuses it with a recorded reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.samples import BRAUND, VECTOR
from titanic_mlops import history
from titanic_mlops.params import load_params
from titanic_mlops.prediction_log import LoggedPrediction, SqlitePredictionLog
from titanic_mlops.registry import CHAMPION, Registry

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
            features=VECTOR,
            probability=0.2,
            survived=0,
            latency_ms=1.0,
        )
        for i in range(n)
    ]
    for prediction_id in log.append(rows):
        log.add_feedback(1, prediction_id=prediction_id)
    log.close()


def run(ws: Workspace, state: Path) -> dict[str, object]:
    # Imported late: Prefect reads its settings at import, after conftest's fixture sets them.
    from pipelines.retraining import retrain_flow

    return retrain_flow(
        workspace=ws.root,
        state=state,
        params=load_params(ws.path("params.yaml")),
        log_url=f"sqlite:///{state / 'predictions.db'}",
        history_path=state / "history.jsonl",
        monitoring_url=f"file://{state / 'monitoring'}",
        model_name="titanic-survival",
        trigger="drift",
    )


def test_rows_breaking_the_contract_and_too_few_rows_stop_before_training(
    workspace_env: Workspace, tmp_path: Path
) -> None:
    ws, state = workspace_env, tmp_path / "state"
    registry = Registry(
        f"sqlite:///{ws.state / 'mlflow' / 'mlflow.db'}",
        str(ws.state / "mlflow" / "artifacts"),
        "titanic-survival",
    )
    champion = registry.require(CHAMPION).version
    log_rows(state / "predictions.db", 60, first_id=500_000, sibsp=20)

    refused = run(ws, state)
    assert refused["promoted"] is False and "SibSp" in str(refused["reason"])
    assert json.loads((state / "monitoring" / "retraining.json").read_text()) == {"cursor": 60}

    log_rows(state / "predictions.db", 10, first_id=600_000, sibsp=0)
    too_few = run(ws, state)
    assert "fewer than min_feedback_rows" in str(too_few["reason"])
    assert json.loads((state / "monitoring" / "retraining.json").read_text()) == {"cursor": 60}

    assert not list(ws.path("data/feedback").glob("*.csv"))
    assert registry.require(CHAMPION).version == champion
    events = history.read(state / "history.jsonl")
    assert [(e["event"], e["trigger"]) for e in events] == [("retraining_refused", "drift")] * 2
