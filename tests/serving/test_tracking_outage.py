"""The MLflow tracking server going down under a serving API, and coming back (production profile).

The module runs its own MLflow server (its own database, a fixed port) so stopping it hurts no
other test, and the pipeline once against it. What it shows: the API keeps serving its model
while the server is down, reports not-ready only while it has no model, and recovers by itself.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.serving.conftest import wait_ready
from tests.support.net import free_port
from tests.support.production import (
    PG_HOST,
    MlflowServer,
    claim_redis_db,
    create_database,
    drop_database,
    production_for,
    release_redis_db,
)
from tests.support.samples import PASSENGER
from tests.support.workspace import Workspace, make_workspace, run_pipeline
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.versions import CHAMPION

pytestmark = [pytest.mark.services, pytest.mark.slow]

POLLS = 4  # alias polls that must fail while the server is down (each a `result="error"`)
INTERVAL = 0.5
WAIT = 180.0  # only a bound on waiting loops: each ends as soon as its condition holds


@dataclass(frozen=True)
class Outage:
    ws: Workspace
    server: MlflowServer

    def registry(self) -> Registry:
        s = Settings()
        return Registry(s.resolved_tracking_uri, s.resolved_artifact_root, s.model_name)

    def app(self) -> TestClient:
        from serving.app import create_app

        settings = Settings(reload_interval_seconds=INTERVAL, tracking_probe_timeout_seconds=2)
        return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def outage(services_up: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A private MLflow server on a fixed port and one production pipeline run against it."""
    tracking_db, app_db, number = create_database(), create_database(), claim_redis_db()
    server = MlflowServer(f"{PG_HOST}/{tracking_db}", tmp_path_factory.mktemp("mlflow-outage"), free_port())
    ws = make_workspace(tmp_path_factory.mktemp("outage"))
    variables = {**ws.env(), **production_for(server, f"{PG_HOST}/{app_db}", number).env()}
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in variables.items():
                env.setenv(key, value)
            server.start()
            run_pipeline(ws)
            yield Outage(ws, server)
    finally:
        server.stop()
        release_redis_db(number)
        drop_database(app_db)
        drop_database(tracking_db)


def reloads(client: TestClient, result: str) -> float:
    """A reload count; compare differences only: once Feast has imported `feast.metrics` (it sets
    PROMETHEUS_MULTIPROC_DIR), every app in this process adds to the same counter values."""
    text = client.get("/metrics").text
    found = re.search(rf'^titanic_model_reloads_total\{{result="{result}"\}} (\S+)$', text, re.MULTILINE)
    assert found is not None, f"no titanic_model_reloads_total{{result={result!r}}} sample"
    return float(found.group(1))


def until(condition: Callable[[], bool], what: str, each: Callable[[], None] = lambda: None) -> int:
    """Loop until `condition` holds, calling `each` every round; the number of rounds it took."""
    deadline, rounds = time.monotonic() + WAIT, 0
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        each()
        rounds += 1
        time.sleep(0.1)
    return rounds


def down(server: MlflowServer) -> None:
    server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/health", timeout=2)


def predicted_version(client: TestClient) -> str:
    answer = client.post("/predict", json={"instances": [PASSENGER]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["model_version"])


def test_the_model_serves_through_an_outage_and_the_alias_is_followed_after_it(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    registry = outage.registry()
    with outage.app() as client:
        first = wait_ready(client.get, timeout=WAIT)["model_version"]
        swapped = reloads(client, "swapped")
        assert first == registry.require(CHAMPION).version
        served_during: list[str] = []

        def still_serving() -> None:
            served_during.append(predicted_version(client))
            ready = client.get("/ready")
            assert ready.status_code == 200, "a model serves, so the API stays ready"
            assert ready.json()["model_version"] == first

        errors_before = reloads(client, "error")
        with caplog.at_level(logging.INFO, logger="titanic_mlops.services.served_model"):
            down(outage.server)
            stopped = time.monotonic()
            still_serving()  # once as soon as it is down, once after the failed polls: no sample count
            until(lambda: reloads(client, "error") >= errors_before + POLLS, "failed polls", still_serving)
            outage_polls = reloads(client, "error") - errors_before
            still_serving()
            assert set(served_during) == {first} and len(served_during) >= 2
            assert client.get("/model").json()["refused"] is None, "an outage refuses no version"

            starting = time.monotonic()
            outage.server.start()  # returns once its /health answers
            restarted = time.monotonic()
            # a new version of the same model, made champion: the API must follow it unasked
            source = registry.client.get_model_version(registry.model_name, first)
            second = str(
                registry.client.create_model_version(
                    registry.model_name,
                    f"models:/{registry.model_name}/{first}",
                    run_id=source.run_id,
                    tags=dict(source.tags),
                ).version
            )
            registry.set_alias(CHAMPION, second)
            moved = time.monotonic()
            until(lambda: client.get("/ready").json()["model_version"] == second, "the new champion")
            followed = time.monotonic()
        assert predicted_version(client) == second
        assert reloads(client, "swapped") == swapped + 1
        assert client.get("/model").json()["refused"] is None
    down_lines = [r for r in caplog.records if "tracking server unavailable" in r.getMessage()]
    assert len(down_lines) == 1, f"one warning per outage, not one per poll ({outage_polls:.0f} polls)"
    assert down_lines[0].exc_info is None
    assert any("tracking server answers again" in r.getMessage() for r in caplog.records)
    print(
        f"\n[outage] >= {outage_polls:.0f} failed polls, {restarted - stopped:.1f} s down "
        f"(server start {restarted - starting:.1f} s), {len(served_during)} predictions all by v{first}; "
        f"v{second} registered and made champion {moved - restarted:.1f} s after the server was back; "
        f"the API served v{second} {followed - moved:.1f} s after the alias moved"
    )


def test_an_api_started_during_an_outage_is_not_ready_until_the_server_returns(outage: Outage) -> None:
    champion = outage.registry().require(CHAMPION).version
    down(outage.server)
    with outage.app() as client:
        assert client.get("/health").status_code == 200
        swapped, errors = reloads(client, "swapped"), reloads(client, "error")

        def not_ready() -> None:
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "loading"
            assert ready.headers["Retry-After"] == "5"
            assert client.post("/predict", json={"instances": [PASSENGER]}).status_code == 503

        until(lambda: reloads(client, "error") >= errors + POLLS, "failed polls", not_ready)
        not_ready()
        outage.server.start()
        back = time.monotonic()
        ready = wait_ready(client.get, timeout=WAIT)
        became_ready = time.monotonic()
        assert ready["model_version"] == champion
        assert predicted_version(client) == champion
        assert reloads(client, "swapped") == swapped + 1
    print(f"\n[cold start] ready {became_ready - back:.1f} s after the tracking server answered again")
