"""The whole loop on the production profile: MLflow server on PostgreSQL, Feast on Redis + a SQL
registry, the prediction log on PostgreSQL. The pipeline runs once for the module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from tests.support.production import (
    PG_HOST,
    REDIS_HOST,
    REDIS_PORT,
    MlflowServer,
    Production,
    claim_redis_db,
    create_database,
    drop_database,
    production_for,
    release_redis_db,
)
from tests.support.samples import PASSENGER
from tests.support.workspace import Workspace, make_workspace, run_pipeline
from titanic_mlops.adapters import feast_store as feature_store
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.errors import OnlineStoreUnavailable
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.stores.factory import open_prediction_log as open_log

pytestmark = [pytest.mark.services, pytest.mark.slow]


@dataclass(frozen=True)
class Deployed:
    ws: Workspace
    prod: Production

    def settings(self) -> Settings:
        return Settings()

    def registry(self) -> Registry:
        s = self.settings()
        return Registry(s.resolved_tracking_uri, s.resolved_artifact_root, s.model_name)


@pytest.fixture(scope="module")
def deployed(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """One pipeline run with TITANIC_MLOPS_PROFILE=production; every store is a real service."""
    name, number = create_database(), claim_redis_db()
    prod = production_for(mlflow_server, f"{PG_HOST}/{name}", number)
    ws = make_workspace(tmp_path_factory.mktemp("production"))
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in {**ws.env(), **prod.env()}.items():
                env.setenv(key, value)
            run_pipeline(ws)
            yield Deployed(ws, prod)
    finally:
        release_redis_db(number)
        drop_database(name)


def test_the_profile_alone_moves_every_store(deployed: Deployed) -> None:
    s = deployed.settings()
    assert s.resolved_tracking_uri.startswith("http://127.0.0.1:")
    assert s.resolved_prediction_log_url.startswith("postgresql://")
    assert s.resolved_feast_config == "feature_store.production.yaml"
    # nothing of the embedded stores was written under the state directory
    state = deployed.ws.state
    assert not (state / "mlflow" / "mlflow.db").exists()
    assert not (state / "feast" / "online_store.db").exists()
    assert not (state / "feast" / "registry.db").exists()
    assert not (state / "predictions.db").exists()


def test_the_champion_lives_on_the_tracking_server_in_postgres(
    deployed: Deployed, mlflow_server: MlflowServer
) -> None:
    champion = deployed.registry().require(CHAMPION)
    info = deployed.registry().describe(champion)
    assert info["lineage"]["promotion_decision"] == "promoted"
    assert "onnx_sha256" in info["lineage"]
    with psycopg.connect(mlflow_server.database_url) as db:
        found = db.execute(
            "SELECT version FROM model_versions WHERE name = %s", (deployed.prod.model_name,)
        ).fetchall()
    assert [str(v) for (v,) in found] == [champion.version]
    # the artifacts went through the server's proxy into its artifact destination
    assert list((mlflow_server.root / "artifacts").rglob("model.onnx"))


def test_the_online_store_is_redis_and_matches_the_offline_table(deployed: Deployed) -> None:
    assert redis.Redis(REDIS_HOST, REDIS_PORT, db=deployed.prod.redis_db).dbsize() > 100
    s = deployed.settings()
    store = Deployment(s).feature_store()
    assert type(store.config.online_store).__name__ == "RedisOnlineStoreConfig"
    online = feature_store.online_passenger_features(store, [1, 892])
    offline = pd.read_parquet(deployed.ws.path("data/features/passengers.parquet")).set_index("passenger_id")
    for column in ("age", "fare", "ticket_group_size", "title", "sex"):
        assert list(online[column]) == [offline.loc[1, column], offline.loc[892, column]], column


def test_the_feast_registry_is_in_postgres(deployed: Deployed) -> None:
    with psycopg.connect(deployed.prod.database_url) as db:
        views = db.execute("SELECT feature_view_name FROM feature_views ORDER BY 1").fetchall()
    assert [v for (v,) in views] == ["passenger_features", "ticket_features"]


def test_serving_predicts_logs_to_postgres_and_takes_feedback(deployed: Deployed) -> None:
    from serving.app import create_app
    from tests.serving.conftest import wait_ready

    with TestClient(create_app(Settings(reload_interval_seconds=0.5))) as client:
        ready = wait_ready(client.get, timeout=120)
        assert ready["model_version"] == deployed.registry().require(CHAMPION).version
        answer = client.post("/predict", json={"instances": [PASSENGER]})
        assert answer.status_code == 200, answer.text
        by_id = client.get("/passengers/1/prediction")
        assert by_id.status_code == 200, by_id.text
        assert client.post("/feedback", json={"passenger_id": 892, "survived": 0}).status_code == 200
    log = open_log(deployed.prod.database_url)
    try:
        window, labelled = log.window(), log.labelled()
    finally:
        log.close()
    assert list(window["passenger_id"]) == [892, 1]
    assert window["f_ticket_group_size"].notna().all()
    assert list(labelled["label"]) == [0]
    assert "f_title" in labelled.columns


def test_batch_scoring_in_chunks_and_on_dask_reads_redis(deployed: Deployed, tmp_path: Path) -> None:
    from titanic_mlops.cli.main import main

    test_csv = deployed.ws.path("data/external/titanic/test.csv")
    base = ["predict", "--input", str(test_csv), "--repo", str(deployed.ws.repo)]
    outputs = {name: tmp_path / f"{name}.csv" for name in ("whole", "chunked", "dask")}
    assert main([*base, "--output", str(outputs["whole"])]) == 0
    assert main([*base, "--output", str(outputs["chunked"]), "--chunk-rows", "100"]) == 0
    assert main([*base, "--output", str(outputs["dask"]), "--dask"]) == 0
    whole = pd.read_csv(outputs["whole"])
    assert len(whole) == 418
    assert pd.read_csv(outputs["chunked"]).equals(whole)
    assert pd.read_csv(outputs["dask"]).equals(whole)


def dead_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point Feast at a port where nothing listens (Redis down), fail fast."""
    from tests.support.net import free_port

    monkeypatch.setenv("TITANIC_MLOPS_FEAST_REDIS", f"127.0.0.1:{free_port()},socket_connect_timeout=1")


def test_redis_down_makes_the_online_lookup_fail_with_a_clear_error(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_redis(monkeypatch)
    s = deployed.settings()
    store = Deployment(s).feature_store()
    with pytest.raises(OnlineStoreUnavailable, match="redis online store is unavailable"):
        feature_store.online_passenger_features(store, [1])
    with pytest.raises(OnlineStoreUnavailable):
        feature_store.online_ticket_group_sizes(store, ["330911"])


def test_redis_down_the_api_answers_503_by_id_and_keeps_predicting_records(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.app import create_app
    from tests.serving.conftest import wait_ready

    dead_redis(monkeypatch)
    with TestClient(create_app(Settings(reload_interval_seconds=0.5))) as client:
        wait_ready(client.get, timeout=120)
        by_id = client.get("/passengers/1/prediction")
        assert by_id.status_code == 503, by_id.text
        assert "online store" in by_id.json()["detail"]
        answer = client.post("/predict", json={"instances": [PASSENGER]})
        assert answer.status_code == 200, answer.text
