"""`/explain`, anomaly flags on `/predict` and the health series on `/metrics`, through the app."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.samples import PASSENGER

pytestmark = pytest.mark.slow  # the session fixture trains the pipeline once

WOMAN: dict[str, Any] = {
    **PASSENGER, "PassengerId": 2, "Pclass": 1, "Name": "Cumings, Mrs. John Bradley", "Sex": "female",
    "Age": 38.0, "SibSp": 1, "Ticket": "PC 17599", "Fare": 71.2833, "Cabin": "C85", "Embarked": "C",
}  # fmt: skip
OLD_MAN: dict[str, Any] = {**PASSENGER, "PassengerId": None, "Age": 90.0, "Pclass": 3}


def test_explain_adds_up_and_names_sex_or_class_for_the_usual_passengers(client: TestClient) -> None:
    response = client.post("/explain", json={"instances": [WOMAN, PASSENGER]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == "1"
    for entry in body["explanations"]:
        total = entry["base_value"] + sum(entry["contributions"].values())
        p = entry["probability"]
        output = math.log(p / (1 - p)) if entry["space"] == "logit" else p
        assert abs(total - output) <= 1e-3
        top = max(entry["contributions"], key=lambda k: abs(entry["contributions"][k]))
        assert top in {"sex", "title", "pclass"}, entry["contributions"]
    predicted = client.post("/predict", json={"instances": [WOMAN, PASSENGER]}).json()["predictions"]
    assert [e["probability"] for e in body["explanations"]] == pytest.approx(
        [p["probability"] for p in predicted]
    )


def test_the_concept_scenarios_old_man_is_anomalous_and_counted(client: TestClient) -> None:
    response = client.post("/predict", json={"instances": [PASSENGER, OLD_MAN]})
    assert response.status_code == 200, response.text
    usual, old = response.json()["predictions"]
    assert usual["anomalous"] is False and old["anomalous"] is True
    assert 0.0 < usual["anomaly_score"] < 1.0
    text = client.get("/metrics").text
    assert re.search(r'^titanic_anomalous_predictions_total\{model_version="1"\} [1-9]', text, re.MULTILINE)
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert re.search(rf"^{name} ", text, re.MULTILINE), name
