"""Concurrency in both profiles: parallel registrations and overlapping promotions.

The embedded variants (SQLite, lock files) run in the default suite; the production variants
(MLflow server on PostgreSQL, advisory locks) are marked `services`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.services.conftest import Production
from titanic_mlops import gate, history, promotion_lock
from titanic_mlops.params import load_params
from titanic_mlops.registry import CHAMPION, ModelRef, Registry

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 10


def register_in_parallel(registry: Registry, workers: int = WORKERS) -> dict[int, str]:
    """`workers` threads, each with its own client, create a version and point its own alias at it."""
    run = registry.client.create_run(registry.experiment_id(registry.model_name))
    registry.client.create_registered_model(registry.model_name)
    start = threading.Barrier(workers)

    def one(worker: int) -> str:
        own = Registry(registry.tracking_uri, registry.artifact_root, registry.model_name)
        start.wait()
        version = own.client.create_model_version(
            registry.model_name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
        ).version
        own.set_alias(f"worker-{worker}", str(version))
        own.tag(str(version), {"worker": str(worker)})
        return str(version)

    with ThreadPoolExecutor(workers) as pool:
        return dict(enumerate(pool.map(one, range(workers))))


def check_registrations(registry: Registry, got: dict[int, str]) -> None:
    assert sorted(int(v) for v in got.values()) == list(range(1, WORKERS + 1)), "versions collide"
    for worker, version in got.items():
        ref = registry.alias(f"worker-{worker}")
        assert ref is not None and ref.version == version, f"alias worker-{worker} moved"
        assert registry.client.get_model_version(registry.model_name, version).tags["worker"] == str(worker)


def gates_at_once(
    registry: Registry, history_path: Path, lock_url: str | None, monkeypatch: Any
) -> list[Any]:
    """Champion v1; two gates judge v2 and v3 at the same moment. Returns the evaluation log."""
    run = registry.client.create_run(registry.experiment_id(registry.model_name))
    registry.client.create_registered_model(registry.model_name)
    refs = [
        ModelRef(
            registry.model_name,
            str(
                registry.client.create_model_version(
                    registry.model_name, f"runs:/{run.info.run_id}/model", run.info.run_id
                ).version
            ),
            run.info.run_id,
        )
        for _ in range(3)
    ]
    registry.set_alias(CHAMPION, refs[0].version)
    seen: list[tuple[str, str, float, float]] = []

    def evaluate(reg: Registry, ref: ModelRef, frame: pd.DataFrame) -> dict[str, Any]:
        started = time.monotonic()
        time.sleep(0.5)  # long enough for an unlocked second gate to read the same champion
        score = 0.80 + 0.02 * int(ref.version)  # every newer version is better: both should pass
        seen.append((threading.current_thread().name, ref.version, started, time.monotonic()))
        return {
            "overall": {"accuracy": score, "roc_auc": score},
            "baseline": {"accuracy": 0.5, "roc_auc": 0.5},
            "slices": {},
        }

    monkeypatch.setattr(gate, "evaluate_version", evaluate)
    policy = load_params(ROOT / "params.yaml").promote
    start = threading.Barrier(2)

    def judge(ref: ModelRef) -> dict[str, Any]:
        start.wait()
        return gate.run_gate(registry, ref, pd.DataFrame(), policy, history_path, "test", lock_url=lock_url)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(judge, refs[1:]))
    return seen


def check_promotions(registry: Registry, history_path: Path, seen: list[Any]) -> None:
    events = [e for e in history.read(history_path) if e["event"] == "promotion"]
    assert len(events) == 2
    first, second = events
    assert first["champion_before"] == "1"
    # the second gate compared against the champion the first one left, not the stale v1
    assert second["champion_before"] == first["champion_after"]
    # v3 is best: first or second, it ends as champion; v2 never replaces a better v3 unchecked
    assert registry.require(CHAMPION).version == second["champion_after"] == "3"
    by_gate: dict[str, list[tuple[float, float]]] = {}
    for thread, _, started, ended in seen:
        by_gate.setdefault(thread, []).append((started, ended))
    (a_start, a_end), (b_start, b_end) = (
        (min(s for s, _ in spans), max(e for _, e in spans)) for spans in by_gate.values()
    )
    assert a_end <= b_start or b_end <= a_start, "the two gates evaluated at the same time"


def sqlite_registry(tmp_path: Path, name: str = "concurrency") -> Registry:
    (tmp_path / "mlflow").mkdir()
    return Registry(f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}", str(tmp_path / "artifacts"), name)


@pytest.mark.slow
def test_ten_parallel_registrations_on_sqlite_get_unique_versions(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    check_registrations(registry, register_in_parallel(registry))


@pytest.mark.slow
def test_two_promotions_at_once_on_sqlite_take_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = sqlite_registry(tmp_path)
    history_path = tmp_path / "history.jsonl"
    seen = gates_at_once(registry, history_path, None, monkeypatch)
    check_promotions(registry, history_path, seen)
    assert (tmp_path / "locks" / "promotion-concurrency.lock").exists()


@pytest.mark.services
def test_ten_parallel_registrations_on_the_server_get_unique_versions(
    production: Production, tmp_path: Path
) -> None:
    registry = Registry(production.tracking_uri, "mlflow-artifacts:/concurrency", production.model_name)
    check_registrations(registry, register_in_parallel(registry))


@pytest.mark.services
def test_two_promotions_at_once_on_postgres_take_turns(
    production: Production, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = Registry(production.tracking_uri, "mlflow-artifacts:/concurrency", production.model_name)
    history_path = tmp_path / "history.jsonl"
    seen = gates_at_once(registry, history_path, production.database_url, monkeypatch)
    check_promotions(registry, history_path, seen)
    assert not (tmp_path / "locks").exists()  # the advisory lock, not a file, serialized them


@pytest.mark.services
def test_a_held_advisory_lock_makes_the_next_caller_wait_then_time_out(database: str) -> None:
    with promotion_lock.hold(database, "promotion-x"):
        started = time.monotonic()
        with (
            pytest.raises(promotion_lock.LockTimeout, match="promotion-x"),
            promotion_lock.hold(database, "promotion-x", timeout=0.5),
        ):
            pass
        assert time.monotonic() - started >= 0.5
    with promotion_lock.hold(database, "promotion-x", timeout=1):
        pass  # released on exit


def test_a_held_file_lock_makes_the_next_caller_time_out(tmp_path: Path) -> None:
    url = f"file://{tmp_path}"
    with (
        promotion_lock.hold(url, "promotion-x"),
        pytest.raises(promotion_lock.LockTimeout, match="still locked"),
        promotion_lock.hold(url, "promotion-x", timeout=0.3),
    ):
        pass
    with promotion_lock.hold(url, "promotion-x", timeout=0.3):
        pass


def test_an_unknown_lock_url_is_refused() -> None:
    with (
        pytest.raises(ValueError, match="TITANIC_MLOPS_LOCK_URL"),
        promotion_lock.hold("redis://x", "promotion"),
    ):
        pass
