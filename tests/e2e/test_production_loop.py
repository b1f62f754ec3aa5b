"""The closed loop on the production profile: drift in PostgreSQL's prediction log, monitoring
state in PostgreSQL, retraining through `dvc repro` and the gate against the MLflow server, Feast
re-materialized into Redis, and a separate API process that follows the new champion.

The same harness as the embedded loop (tests/loop_support.py); only the environment differs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import redis

from tests.support.loop import (
    Loop,
    cli_json,
    drift_until_retrained,
    enter,
    running_loop,
    send,
    served_version,
)
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
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.stores import history

pytestmark = [pytest.mark.services, pytest.mark.slow]


@dataclass(frozen=True)
class ProductionLoop:
    loop: Loop
    prod: Production


@pytest.fixture(scope="module")
def production_loop(
    mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProductionLoop]:
    name, number = create_database(), claim_redis_db()
    prod = production_for(mlflow_server, f"{PG_HOST}/{name}", number)
    try:
        with running_loop(tmp_path_factory.mktemp("production-loop"), prod.env()) as loop:
            yield ProductionLoop(loop, prod)
    finally:
        release_redis_db(number)
        drop_database(name)


def monitoring_rows(database_url: str, model_name: str) -> tuple[int, int | None]:
    """How many cycles PostgreSQL holds for the model, and the policy's cursor."""
    with psycopg.connect(database_url) as db:
        cycles = db.execute(
            "SELECT count(*) FROM monitoring_cycles WHERE model_name = %s", (model_name,)
        ).fetchone()
        cursor = db.execute(
            "SELECT cursor_id FROM monitoring_policy WHERE model_name = %s", (model_name,)
        ).fetchone()
    return int(cycles[0]) if cycles else 0, None if cursor is None else int(cursor[0])


def test_drift_retrains_through_the_gate_and_the_api_follows_on_production(
    production_loop: ProductionLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop, prod = enter(production_loop.loop, monkeypatch), production_loop.prod
    workspace = ["--workspace", str(loop.work)]
    settings = Settings()
    assert settings.resolved_monitoring_url == prod.database_url
    registry = Registry(settings.resolved_tracking_uri, settings.resolved_artifact_root, prod.model_name)
    champion = served_version(loop.url)
    assert registry.require(CHAMPION).version == champion

    send(loop, "none", seed=1)
    quiet = cli_json("monitor", "--json", *workspace)
    assert quiet["action"] == "none" and not quiet["drift_detected"], quiet
    assert monitoring_rows(prod.database_url, prod.model_name) == (1, quiet["window_ids"][1])

    # The API process reads the gauges from PostgreSQL, not from a file it shares with monitoring.
    metrics = httpx.get(f"{loop.url}/metrics", timeout=10).text
    stamp = re.search(r"^titanic_monitor_last_run_timestamp_seconds (\S+)$", metrics, re.MULTILINE)
    assert stamp is not None and float(stamp.group(1)) == pytest.approx(quiet["time"])

    second = drift_until_retrained(loop, champion)
    new_version = second["new_version"]

    # Every store moved: registry on the server, state in PostgreSQL, features re-materialized in Redis.
    assert registry.require(CHAMPION).version == new_version != champion
    assert registry.describe(registry.require(CHAMPION))["lineage"]["promotion_decision"] == "promoted"
    cycles, cursor = monitoring_rows(prod.database_url, prod.model_name)
    assert cycles == 3 and cursor == second["window_ids"][1]
    monitoring_dir = loop.state / "monitoring"
    files = ("policy.json", "latest.json", "cycles.jsonl", "retraining.json")
    assert not any((monitoring_dir / name).exists() for name in files)
    assert not (loop.state / "predictions.db").exists() and not (loop.state / "mlflow" / "mlflow.db").exists()
    assert redis.Redis(REDIS_HOST, REDIS_PORT, db=prod.redis_db).dbsize() > 100
    with psycopg.connect(prod.database_url) as db:
        logged = db.execute("SELECT count(DISTINCT model_version) FROM predictions").fetchone()
        consumed = db.execute(
            "SELECT cursor_id FROM retraining_cursor WHERE model_name = %s", (prod.model_name,)
        ).fetchone()
    assert logged is not None and logged[0] == 2  # the log holds predictions of both champions
    # the retraining cursor moved past the feedback it trained on, in PostgreSQL
    assert consumed is not None and 0 < consumed[0] <= second["window_ids"][1]

    events = history.read(settings.history_path)
    kinds = [(e.event, getattr(e, "trigger", None)) for e in events]
    assert ("monitoring", "drift") in kinds and ("promotion", "drift") in kinds
