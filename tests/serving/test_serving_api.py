"""The API through FastAPI's TestClient (lifespan on): every endpoint, feedback, auth, metrics."""

from __future__ import annotations

import gc
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.samples import cycle
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import scoring
from titanic_mlops.stores import file_monitoring

from .conftest import ADMIN_TOKEN, PASSENGER, ROOT, ServingState, make_serving_state, wait_ready

pytestmark = pytest.mark.slow  # the session fixture trains the pipeline once


def architecture_metric_names() -> list[str]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Prometheus metrics", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(titanic_[a-z_]+)` \|", section, flags=re.MULTILINE)


def test_predict_answers_each_passenger_with_a_prediction_id(client: TestClient) -> None:
    second = {**PASSENGER, "PassengerId": None, "Age": None, "Fare": None, "Embarked": None}
    response = client.post("/predict", json={"instances": [PASSENGER, second]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "titanic-survival" and body["model_version"] == "1"
    first, other = body["predictions"]
    assert first["passenger_id"] == 892 and other["passenger_id"] is None
    for p in body["predictions"]:
        assert 0.0 <= p["probability"] <= 1.0 and p["survived"] == int(p["probability"] >= 0.5)
    assert other["prediction_id"] == first["prediction_id"] + 1
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_a_passenger_is_optional_fields_short(client: TestClient) -> None:
    minimal = {
        k: v for k, v in PASSENGER.items() if k not in ("PassengerId", "Age", "Fare", "Cabin", "Embarked")
    }
    assert client.post("/predict", json={"instances": [minimal]}).status_code == 200


def test_prediction_by_passenger_id_reads_the_online_store(client: TestClient) -> None:
    response = client.get("/passengers/1/prediction")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["passenger_id"] == 1 and body["features"]["title"] == "Mr" and body["features"]["sex"] == "male"
    )
    assert body["prediction_id"] >= 1


def test_an_unknown_passenger_id_is_a_404(client: TestClient) -> None:
    response = client.get("/passengers/999999/prediction")
    assert response.status_code == 404 and "passenger_id" in response.json()["detail"]


def test_feedback_by_prediction_id_and_by_passenger_id(
    client: TestClient, serving_state: ServingState
) -> None:
    predicted = client.post("/predict", json={"instances": [{**PASSENGER, "PassengerId": 1200}]}).json()
    pid = predicted["predictions"][0]["prediction_id"]
    one = client.post("/feedback", json={"prediction_id": pid, "survived": 1})
    assert one.status_code == 200 and one.json() == {"accepted": 1, "prediction_ids": [pid], "missing": []}
    by_passenger = client.post("/feedback", json={"passenger_id": 1200, "survived": 0})
    assert by_passenger.json()["prediction_ids"] == [pid]
    batch = client.post(
        "/feedback", json=[{"prediction_id": pid, "survived": 1}, {"prediction_id": 10**9, "survived": 0}]
    )
    assert batch.status_code == 200 and batch.json()["missing"] == [1]
    log = client.app.state.runtime.deployment.prediction_log()  # type: ignore[attr-defined]
    try:
        labelled = log.labelled()
    finally:
        log.close()
    row = labelled[labelled["id"] == pid].iloc[0]
    assert row["label"] == 1  # the latest label wins


@pytest.mark.parametrize(
    "body", [{"prediction_id": 10**9, "survived": 1}, {"passenger_id": 4242, "survived": 0}]
)
def test_feedback_for_nothing_logged_is_a_404(client: TestClient, body: dict[str, int]) -> None:
    response = client.post("/feedback", json=body)
    assert response.status_code == 404
    assert next(k for k in body if k != "survived") in response.json()["detail"]


def test_admin_reload_needs_the_token(client: TestClient) -> None:
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ok.status_code == 200 and ok.json() == {
        "result": "unchanged",
        "model_version": "1",
        "reason": None,
    }


def test_admin_reload_is_refused_when_no_token_is_configured(
    serving_state: ServingState, tmp_path: Path
) -> None:
    from serving.app import create_app

    app = create_app(
        serving_state.settings(admin_token=None, prediction_log_url=f"sqlite:///{tmp_path / 'log.db'}")
    )
    with TestClient(app) as c:
        assert c.post("/admin/reload").status_code == 403
        assert c.post("/admin/reload", headers={"Authorization": "Bearer anything"}).status_code == 403


def test_model_describes_the_champion(client: TestClient) -> None:
    body = client.get("/model").json()
    assert body["name"] == "titanic-survival" and body["version"] == "1" and body["engine"] == "onnx"
    assert body["metrics"]["holdout_accuracy"] > 0.7
    assert (
        body["lineage"]["feature_service"] == "titanic_model_v1" and len(body["lineage"]["onnx_sha256"]) == 64
    )
    assert body["loaded_at"] <= time.time() and body["refused"] is None


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    runtime, deadline = client.app.state.runtime, time.monotonic() + 120  # type: ignore[attr-defined]
    while runtime.online_store == "unchecked":  # checked after the first alias poll
        assert time.monotonic() < deadline, "the online store was never checked"
        time.sleep(0.05)  # polling a condition, with a deadline
    assert client.get("/ready").json() == {"status": "ready", "model_version": "1", "online_store": "ok"}
    assert re.search(r"^titanic_online_store_ok 1\.0$", client.get("/metrics").text, re.MULTILINE)


def test_the_heap_is_settled_after_the_champion_loads(client: TestClient) -> None:
    """serving/heap.py: what the load left alive is frozen, so no full collection walks it."""
    runtime, deadline = client.app.state.runtime, time.monotonic() + 120  # type: ignore[attr-defined]
    while runtime.settles < 1:  # the poll that loaded the champion settles right after it
        assert time.monotonic() < deadline, "the heap was never settled after the load"
        time.sleep(0.05)  # polling a condition, with a deadline
    try:
        assert gc.get_freeze_count() > 100_000  # mlflow, Feast, pandas, the model: millions here
    finally:
        gc.unfreeze()  # the rest of the session collects as usual


def test_a_swapped_champion_is_settled_too(
    trained_workspace: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A new champion replaces the old one in memory: the heap is settled again, for the new one."""
    from serving.app import create_app

    tmp = tmp_path_factory.mktemp("settle-swap")
    state = make_serving_state(trained_workspace, tmp)
    registry = state.registry()
    app = create_app(state.settings(prediction_log_url=f"sqlite:///{tmp / 'predictions.db'}"))
    try:
        with TestClient(app) as client:
            wait_ready(client.get)
            runtime, deadline = client.app.state.runtime, time.monotonic() + 120  # type: ignore[attr-defined]
            while runtime.settles < 1:
                assert time.monotonic() < deadline, "the heap was never settled after the first load"
                time.sleep(0.05)  # polling a condition, with a deadline
            first = runtime.settled_for
            source = registry.client.get_model_version(registry.model_name, "1")
            uri = f"models:/{registry.model_name}/1"
            created = registry.client.create_model_version(
                registry.model_name, uri, run_id=source.run_id, tags=dict(source.tags)
            )
            second = created.version
            registry.set_alias(CHAMPION, str(second))
            while runtime.settles < 2:
                assert time.monotonic() < deadline, "the new champion's load was never settled"
                time.sleep(0.05)  # polling a condition, with a deadline
            assert client.get("/ready").json()["model_version"] == str(second)
            assert runtime.settled_for == runtime.loaded_models() != first
    finally:
        gc.unfreeze()  # the rest of the session collects as usual


def test_a_ticket_the_store_does_not_know_is_counted_as_a_defaulted_feature(client: TestClient) -> None:
    def defaulted() -> float:
        found = re.search(
            r'^titanic_defaulted_features_total\{feature="ticket_group_size"\} (\S+)$',
            client.get("/metrics").text,
            re.MULTILINE,
        )
        return float(found.group(1)) if found else 0.0

    before = defaulted()
    assert client.post("/predict", json={"instances": [PASSENGER]}).status_code == 200
    assert defaulted() == before  # a stored ticket: its group size came from the store
    unknown = {**PASSENGER, "Ticket": "NOT-A-TICKET 000"}
    assert client.post("/predict", json={"instances": [unknown, unknown]}).status_code == 200
    assert defaulted() == before + 2


def test_metrics_export_every_name_the_architecture_lists(
    client: TestClient, serving_state: ServingState
) -> None:
    names = architecture_metric_names()
    assert len(names) == 21, names
    client.post("/predict", json={"instances": [{**PASSENGER, "Age": None}]})
    text = client.get("/metrics").text
    for name in names:
        assert re.search(rf"^# TYPE {name} ", text, flags=re.MULTILINE), name
    assert 'titanic_model_info{name="titanic-survival",run_id="' in text
    assert 'titanic_missing_features_total{feature="age"}' in text
    assert re.search(
        r'^titanic_predictions_total\{model_version="1",survived="[01]"\} [1-9]', text, re.MULTILINE
    )
    assert re.search(r'titanic_http_requests_total\{method="POST",route="/predict",status="200"\}', text)
    assert re.search(r"^titanic_prediction_log_rows_total [1-9]", text, re.MULTILINE)


def test_metrics_carry_the_latest_monitoring_cycle(client: TestClient, serving_state: ServingState) -> None:
    result = cycle(drift_share=0.4, drift_detected=True, drifted_columns=4, live_accuracy=0.81, time=1.7e9)
    store = file_monitoring.FileMonitoringStore(serving_state.state / "monitoring")
    before = store.policy()
    store.record(result, replace(before, cursor=before.cursor + 1), before)
    try:
        text = client.get("/metrics").text
    finally:
        for name in (file_monitoring.POLICY, file_monitoring.LATEST, file_monitoring.CYCLES):
            (store.directory / name).unlink()
    for line in (
        "titanic_drift_share 0.4",
        "titanic_drift_detected 1.0",
        "titanic_drifted_columns 4.0",
        "titanic_live_accuracy 0.81",
        "titanic_monitor_last_run_timestamp_seconds 1.7e+09",
    ):
        assert line in text.splitlines(), line


def test_no_model_means_not_ready_and_503(serving_state: ServingState, tmp_path: Path) -> None:
    from serving.app import create_app

    empty = serving_state.settings(
        tracking_uri=f"sqlite:///{tmp_path / 'empty.db'}",
        prediction_log_url=f"sqlite:///{tmp_path / 'log.db'}",
    )
    with TestClient(create_app(empty)) as c:
        runtime, deadline = c.app.state.runtime, time.monotonic() + 120  # type: ignore[attr-defined]
        while runtime.polls == 0:  # the first alias poll found nothing
            assert time.monotonic() < deadline, "the alias was never polled"
            time.sleep(0.05)  # polling a condition, with a deadline
        assert c.get("/health").status_code == 200
        assert c.get("/ready").status_code == 503
        assert c.post("/predict", json={"instances": [PASSENGER]}).status_code == 503
        assert c.get("/model").status_code == 503


def test_a_bug_is_a_logged_json_500_with_a_request_id(
    serving_state: ServingState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.app import create_app

    app = create_app(serving_state.settings(prediction_log_url=f"sqlite:///{tmp_path / 'log.db'}"))
    with TestClient(app, raise_server_exceptions=False) as c:
        wait_ready(c.get)

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(scoring, "score_records", broken)
        response = c.post("/predict", json={"instances": [PASSENGER]})
        assert response.status_code == 500
        assert response.json()["detail"] == "internal server error"
        assert re.fullmatch(r"[0-9a-f]{32}", response.json()["request_id"])
        assert 'route="/predict",status="500"' in c.get("/metrics").text
