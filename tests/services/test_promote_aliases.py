"""After a promotion `challenger` leaves the new champion and the replaced champion is `previous`."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.services.test_promote import INPUTS, LABELS, sqlite_registry
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import promotion
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION, PREVIOUS, ModelRef
from titanic_mlops.services import promote as gate

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"1": 30, "2": 20, "3": 60}  # v2 is better than v1, v3 far worse than v2


def scores(ref: ModelRef) -> np.ndarray:
    p = np.where(LABELS == 1, 0.9, 0.1)
    wrong = np.arange(ERRORS[ref.version])
    p[wrong] = np.where(LABELS[wrong] == 1, 0.45, 0.55)
    return p


def versions(registry: Registry, n: int) -> list[ModelRef]:
    run = registry.client.create_run(registry.experiment_id(registry.model_name))
    registry.client.create_registered_model(registry.model_name)
    return [
        registry.version(
            str(
                registry.client.create_model_version(
                    registry.model_name, f"runs:/{run.info.run_id}/model", run.info.run_id
                ).version
            )
        )
        for _ in range(n)
    ]


def test_aliases_after_promotions_and_a_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def compare(
        reg: Registry, name: str, frame: pd.DataFrame, new: ModelRef, old: ModelRef | None
    ) -> promotion.Comparison:
        return promotion.compare(name, INPUTS, LABELS, scores(new), scores(old) if old else None)

    monkeypatch.setattr(gate, "comparison", compare)
    registry = sqlite_registry(tmp_path, "aliases")
    # the gate without its fairness checks: they load real models, and these versions are fakes
    policy = load_params(ROOT / "params.yaml").promote.model_copy(update={"fairness": None})
    v1, v2, v3 = versions(registry, 3)
    history_path = tmp_path / "history.jsonl"

    def judge(ref: ModelRef) -> bool:
        event = gate.run_gate(registry, ref, pd.DataFrame(), policy, history_path, "test", nullcontext())
        return event.promoted

    assert judge(v1)
    assert registry.require(CHAMPION).version == "1"
    assert registry.alias(CHALLENGER) is None and registry.alias(PREVIOUS) is None
    assert judge(v2)
    assert (registry.require(CHAMPION).version, registry.require(PREVIOUS).version) == ("2", "1")
    assert registry.alias(CHALLENGER) is None
    assert not judge(v3)
    assert registry.require(CHALLENGER).version == "3"
    assert (registry.require(CHAMPION).version, registry.require(PREVIOUS).version) == ("2", "1")
