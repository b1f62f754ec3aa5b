"""The experiment's loop on a real prediction log and shadow log, with an in-memory registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain.experiment_records import ExperimentEvent
from titanic_mlops.domain.params import ExperimentParams, Guardrails
from titanic_mlops.domain.records import PromotionEvent, RollbackEvent
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import experiment as service
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import LoggedPrediction
from titanic_mlops.stores.shadow_log import ShadowLog, ShadowPrediction
from titanic_mlops.stores.sqlite_log import SqlitePredictionLog

NAME = "titanic-survival"


class FakeRegistry:
    """The registry calls the service makes, kept in dicts."""

    model_name = NAME

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {"champion": "1"}
        self.tags: dict[str, dict[str, str]] = {}
        self.descriptions: dict[str, str] = {}

    def set_alias(self, alias: str, version: str) -> None:
        self.aliases[alias] = version

    def delete_alias(self, alias: str) -> None:
        self.aliases.pop(alias, None)

    def alias(self, alias: str) -> ModelRef | None:
        version = self.aliases.get(alias)
        return None if version is None else ModelRef(NAME, version, f"run-{version}")

    def require(self, alias: str) -> ModelRef:
        found = self.alias(alias)
        assert found is not None
        return found

    def tag(self, version: str, tags: dict[str, str]) -> None:
        self.tags.setdefault(version, {}).update(tags)

    def describe_version(self, version: str, description: str) -> None:
        self.descriptions[version] = description


def params(mode: str = "shadow") -> ExperimentParams:
    return ExperimentParams(
        mode=mode,  # type: ignore[arg-type]
        canary_share=0.3,
        alpha=0.05,
        power=0.8,
        min_detectable_effect=0.1,
        non_inferiority_margin=0.01,
        max_labelled_rows=5000,
        guardrails=Guardrails(
            max_challenger_error_rate=0.01,
            max_latency_ratio=3.0,
            min_guardrail_requests=50,
            sample_ratio_p_value=0.001,
        ),
    )


@pytest.fixture
def world(
    tmp_path: Path,
) -> Iterator[tuple[FakeRegistry, SqlitePredictionLog, ShadowLog, StateLayout, Path]]:
    paths = StateLayout(tmp_path)
    log = SqlitePredictionLog(tmp_path / "predictions.db")
    shadow = ShadowLog(paths.shadow_log)
    yield FakeRegistry(), log, shadow, paths, tmp_path / "history.jsonl"
    log.close()
    shadow.close()


def serve(log: SqlitePredictionLog, version: str, labels: np.ndarray, right: np.ndarray) -> list[int]:
    """Log one prediction per label (right where `right`), then the ground truth."""
    rows = [
        LoggedPrediction("r", NAME, version, i + 1, {}, {}, 0.5, int(y if ok else 1 - y), 1.0)
        for i, (y, ok) in enumerate(zip(labels.tolist(), right.tolist(), strict=True))
    ]
    ids = log.append(rows)
    for pid, y in zip(ids, labels.tolist(), strict=True):
        log.add_feedback(int(y), prediction_id=pid)
    return ids


def shadow_scores(shadow: ShadowLog, ids: list[int], labels: np.ndarray, right: np.ndarray) -> None:
    shadow.append(
        [
            ShadowPrediction(pid, "challenger", "2", 0.5, int(y if ok else 1 - y), 1.0)
            for pid, y, ok in zip(ids, labels.tolist(), right.tolist(), strict=True)
        ]
    )


def start(registry: FakeRegistry, paths: StateLayout, mode: str = "shadow") -> Any:
    champion, challenger = ModelRef(NAME, "1", "run-1"), ModelRef(NAME, "2", "run-2")
    return service.start(registry, challenger, champion, params(mode), 0.75, paths)  # type: ignore[arg-type]


def test_shadow_promotes_a_better_challenger_and_records_it_everywhere(world: Any) -> None:
    registry, log, shadow, paths, history_path = world
    state = start(registry, paths)
    assert registry.aliases == {"champion": "1", "challenger": "2"}
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 2 * state.required_rows)
    champion_right = rng.random(len(labels)) < 0.72
    challenger_right = champion_right | (rng.random(len(labels)) < 0.5)
    ids = serve(log, "1", labels[: len(labels) // 4], champion_right[: len(labels) // 4])
    shadow_scores(shadow, ids, labels[: len(labels) // 4], challenger_right[: len(labels) // 4])
    first = service.evaluate(registry, log, shadow, paths, history_path)
    assert first is not None and first.decision == "continue"  # type: ignore[union-attr]
    assert registry.aliases["champion"] == "1"
    ids = serve(log, "1", labels[len(labels) // 4 :], champion_right[len(labels) // 4 :])
    shadow_scores(shadow, ids, labels[len(labels) // 4 :], challenger_right[len(labels) // 4 :])
    decision = service.evaluate(registry, log, shadow, paths, history_path)
    assert decision is not None and decision.decision == "promote"  # type: ignore[union-attr]
    assert registry.aliases == {"champion": "2", "previous": "1"}
    events = history.read(history_path)
    assert [type(e) for e in events] == [ExperimentEvent, PromotionEvent]
    recorded = events[0]
    assert isinstance(recorded, ExperimentEvent)
    assert recorded.labelled_rows == len(labels) and recorded.p_value is not None and recorded.p_value < 0.05
    assert registry.tags["2"]["experiment_decision"] == "promote"
    assert "Online experiment (shadow): promote" in registry.descriptions["2"]
    finished = service.read_state(paths)
    assert finished is not None and not finished.running and finished.watching


def test_shadow_rejects_a_challenger_no_better_than_the_champion(world: Any) -> None:
    registry, log, shadow, paths, history_path = world
    state = start(registry, paths)
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, state.required_rows + 50)
    right = rng.random(len(labels)) < 0.75
    ids = serve(log, "1", labels, right)
    shadow_scores(shadow, ids, labels, np.where(rng.random(len(labels)) < 0.8, right, ~right))
    decision = service.evaluate(registry, log, shadow, paths, history_path)
    assert decision is not None and decision.decision == "reject"  # type: ignore[union-attr]
    assert registry.aliases == {"champion": "1"}
    assert service.evaluate(registry, log, shadow, paths, history_path) is None  # finished


def test_canary_counts_each_arm_by_the_version_that_answered(world: Any) -> None:
    registry, log, shadow, paths, history_path = world
    state = start(registry, paths, mode="canary")
    rng = np.random.default_rng(3)
    n = state.required_rows + 100
    on_challenger = rng.random(n) < 0.3
    labels = rng.integers(0, 2, n)
    right = rng.random(n) < np.where(on_challenger, 0.95, 0.7)
    serve(log, "1", labels[~on_challenger], right[~on_challenger])
    serve(log, "2", labels[on_challenger], right[on_challenger])
    decision = service.evaluate(registry, log, shadow, paths, history_path)
    assert decision is not None and decision.decision == "promote"  # type: ignore[union-attr]
    assert decision.mode == "canary"  # type: ignore[union-attr]
    assert registry.aliases["champion"] == "2"


def test_a_guardrail_breach_rejects_the_challenger(world: Any) -> None:
    registry, log, shadow, paths, history_path = world
    start(registry, paths)
    service.record_guardrail(paths, "2", "challenger error rate 0.200 over 50 requests exceeds 0.01")
    decision = service.evaluate(registry, log, shadow, paths, history_path)
    assert decision is not None and decision.decision == "reject"  # type: ignore[union-attr]
    assert decision.reason.startswith("guardrail: challenger error rate")  # type: ignore[union-attr]
    assert "challenger" not in registry.aliases


def test_a_regression_after_the_promotion_rolls_the_champion_back(world: Any) -> None:
    registry, log, shadow, paths, history_path = world
    test_shadow_promotes_a_better_challenger_and_records_it_everywhere(world)
    state = service.read_state(paths)
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, state.last.labelled_rows)
    serve(log, "2", labels, rng.random(len(labels)) < 0.5)  # far worse than its experiment record
    rolled = service.evaluate(registry, log, shadow, paths, history_path)
    assert isinstance(rolled, RollbackEvent)
    assert rolled.trigger == "regression" and rolled.champion_after == "1"
    assert registry.aliases["champion"] == "1"
    assert "regression: accuracy" in rolled.reason


def test_the_gate_stages_a_passed_candidate_only_with_mode_on_and_a_champion(world: Any) -> None:
    registry, _, _, paths, _ = world
    candidate, champion = ModelRef(NAME, "2", "run-2"), ModelRef(NAME, "1", "run-1")
    off = service.Staging(params().model_copy(update={"mode": "off"}), paths)
    assert not off.stage(registry, candidate, champion, 0.8)
    assert not service.Staging(None, paths).stage(registry, candidate, champion, 0.8)
    assert not service.Staging(params(), paths).stage(registry, candidate, None, None)
    assert service.read_state(paths) is None
    assert service.Staging(params(), paths).stage(registry, candidate, champion, 0.8)
    state = service.read_state(paths)
    assert state is not None and state.running and state.challenger_version == "2"
    assert registry.aliases == {"champion": "1", "challenger": "2"}
    assert registry.tags["2"]["experiment_required_rows"] == str(state.required_rows)


def test_status_shows_the_issue_fields_while_running_and_after_the_decision(world: Any) -> None:
    from titanic_mlops.services import experiment_cycle

    registry, log, shadow, paths, history_path = world
    assert experiment_cycle.status(paths.root) is None
    start(registry, paths)
    running = experiment_cycle.status(paths.root)
    fields = set(experiment_cycle.STATUS_FIELDS) | {"challenger_version", "mode"}
    assert len(fields) == 12
    assert running is not None and fields <= set(running)
    assert running["decision"] == "continue" and running["labelled_rows"] == 0
    service.record_guardrail(paths, "2", "challenger latency 5.0x the champion's exceeds 3.0x")
    service.evaluate(registry, log, shadow, paths, history_path)
    done = experiment_cycle.status(paths.root)
    assert done is not None and done["decision"] == "reject" and done["running"] is False
    assert "latency" in done["reason"]
    assert "reject" in experiment_cycle.describe(service.read_state(paths).last)
