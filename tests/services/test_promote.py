"""The gate under concurrency, in both profiles: parallel registrations and overlapping promotions.

The embedded variants (SQLite, lock files) run in the default suite; the production variants
(MLflow server on PostgreSQL, advisory locks) are marked `services`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.production import Production
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import promotion
from titanic_mlops.domain.records import PromotionEvent
from titanic_mlops.domain.versions import CHAMPION, ModelRef
from titanic_mlops.services import promote as gate
from titanic_mlops.stores import factory, history

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

    def evaluate(
        reg: Registry, name: str, frame: pd.DataFrame, new: ModelRef, old: ModelRef | None
    ) -> promotion.Comparison:
        started = time.monotonic()
        time.sleep(0.5)  # widens the window an unlocked second gate would read the same champion in
        seen.append((threading.current_thread().name, new.version, started, time.monotonic()))
        return promotion.compare(name, INPUTS, LABELS, scores(new), scores(old) if old else None)

    monkeypatch.setattr(gate, "comparison", evaluate)
    # the gate without its fairness checks: they load real models, and these versions are fakes
    policy = load_params(ROOT / "params.yaml").promote.model_copy(update={"fairness": None})
    start = threading.Barrier(2)

    url = lock_url or f"file://{history_path.parent / 'locks'}"

    def judge(ref: ModelRef) -> PromotionEvent:
        lock = factory.open_lock(url).hold(f"promotion-{registry.model_name}", 900)
        start.wait()
        return gate.run_gate(registry, ref, pd.DataFrame(), policy, history_path, "test", lock)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(judge, refs[1:]))
    return seen


def check_promotions(registry: Registry, history_path: Path, seen: list[Any]) -> None:
    events = [e for e in history.read(history_path) if isinstance(e, PromotionEvent)]
    assert len(events) == 2
    first, second = events
    assert first.champion_before == "1"
    # the second gate compared against the champion the first one left, not the stale v1
    assert second.champion_before == first.champion_after
    # v3 is best: first or second, it ends as champion; v2 never replaces a better v3 unchecked
    assert registry.require(CHAMPION).version == second.champion_after == "3"
    by_gate: dict[str, list[tuple[float, float]]] = {}
    for thread, _, started, ended in seen:
        by_gate.setdefault(thread, []).append((started, ended))
    (a_start, a_end), (b_start, b_end) = (
        (min(s for s, _ in spans), max(e for _, e in spans)) for spans in by_gate.values()
    )
    assert a_end <= b_start or b_end <= a_start, "the two gates evaluated at the same time"


LABELS = np.array([0, 1] * 100)
INPUTS = pd.DataFrame({"sex": ["male"] * 200, "pclass": [3.0] * 200})


def scores(ref: ModelRef) -> np.ndarray:
    """Every newer version errs on a subset of the older one's passengers: both gates should pass."""
    p = np.where(LABELS == 1, 0.9, 0.1)
    wrong = np.arange(40 - 12 * int(ref.version))
    p[wrong] = np.where(LABELS[wrong] == 1, 0.45, 0.55)
    return p


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
