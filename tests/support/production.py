"""Fixtures of the production profile against the real PostgreSQL and Redis (`make test-services`).

Selected only with `-m services` (or TITANIC_MLOPS_SERVICES=1): then a service that does not
answer fails the run instead of skipping it. Every test gets its own PostgreSQL database(s) and
its own Redis database number, dropped/flushed at teardown. One MLflow server (its own database)
serves the whole session; tests keep apart by model name (the experiment is named after it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tests.support.net import free_port

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
CLAIM_KEY = "titanic-mlops:test-claim"


@pytest.fixture(scope="session")
def services_up() -> None:
    """Fail (not skip) when the services are missing: this suite exists to test against them."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=5) as db:
            db.execute("SELECT 1")
        redis.Redis(REDIS_HOST, REDIS_PORT, socket_connect_timeout=5).ping()
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL 127.0.0.1:5432 / Redis 127.0.0.1:6379 not answering ({exc}); "
            "run `bash scripts/services.sh`"
        )


def create_database() -> str:
    name = f"titanic_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database(services_up: None) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (its URL); dropped afterwards."""
    name = create_database()
    try:
        yield f"{PG_HOST}/{name}"
    finally:
        drop_database(name)


def claim_redis_db() -> int:
    """An empty Redis database number, marked as ours until `release_redis_db`."""
    for number in range(1, 16):
        client = redis.Redis(REDIS_HOST, REDIS_PORT, db=number)
        if client.dbsize() == 0 and client.set(CLAIM_KEY, str(os.getpid()), nx=True):
            return number
    raise RuntimeError("no empty Redis database among 1..15")


def release_redis_db(number: int) -> None:
    redis.Redis(REDIS_HOST, REDIS_PORT, db=number).flushdb()


@pytest.fixture
def redis_db(services_up: None) -> Iterator[int]:
    number = claim_redis_db()
    try:
        yield number
    finally:
        release_redis_db(number)


class MlflowServer:
    """`mlflow server` on PostgreSQL, one worker, a free port; artifacts proxied into `root`.

    `port` fixes the port, so a stopped server can be started again where its clients look.
    """

    def __init__(self, database_url: str, root: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.root = root
        self.output = root / "mlflow-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 300.0) -> MlflowServer:  # a bound: under load a start took > 120 s
        artifacts = self.root / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).parent / "mlflow"), "server",
            "--backend-store-uri", self.database_url.replace("postgresql://", "postgresql+psycopg://"),
            "--default-artifact-root", str(artifacts),
            "--artifacts-destination", str(artifacts),
            "--workers", "1", "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        env = {
            **os.environ,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_ENABLE_TELEMETRY": "false",
        }
        with self.output.open("ab") as out:  # a restart appends to the same log
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"mlflow server did not start:\n{self.output.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def mlflow_server(services_up: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    name = create_database()
    server = MlflowServer(f"{PG_HOST}/{name}", tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server.start()
    finally:
        server.stop()
        drop_database(name)


@dataclass(frozen=True)
class Production:
    """The production profile's settings for one test: its database, Redis db and model name."""

    tracking_uri: str
    database_url: str
    redis_db: int
    model_name: str

    def env(self) -> dict[str, str]:
        return {
            "TITANIC_MLOPS_PROFILE": "production",
            "TITANIC_MLOPS_TRACKING_URI": self.tracking_uri,
            "TITANIC_MLOPS_PREDICTION_LOG_URL": self.database_url,
            "TITANIC_MLOPS_FEAST_REGISTRY_URL": self.database_url.replace(
                "postgresql://", "postgresql+psycopg://"
            ),
            "TITANIC_MLOPS_FEAST_REDIS": f"{REDIS_HOST}:{REDIS_PORT},db={self.redis_db}",
            "TITANIC_MLOPS_MODEL_NAME": self.model_name,
            "MLFLOW_ENABLE_TELEMETRY": "false",
        }


def production_for(server: MlflowServer, database_url: str, redis_number: int) -> Production:
    return Production(server.url, database_url, redis_number, f"titanic-{secrets.token_hex(4)}")


@pytest.fixture
def production(mlflow_server: MlflowServer, database: str, redis_db: int) -> Production:
    return production_for(mlflow_server, database, redis_db)
