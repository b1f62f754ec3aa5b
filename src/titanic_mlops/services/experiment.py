"""The online experiment's use cases: start it, evaluate it each monitoring cycle, move the aliases.

The statistics are `domain.experiment`; this module gathers the labelled rows, acts on the
decision and records it (the state file serving reads, the history, the MLflow version's tags
and description). Promote: `champion` moves to the challenger, the old champion keeps alias
`previous`, `challenger` is removed; reject: `challenger` is removed. After a promotion the new
champion is watched, and a significant regression rolls `champion` back to `previous`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain import experiment, experiment_counts
from titanic_mlops.domain.experiment import ArmCounts, PairedCounts
from titanic_mlops.domain.experiment_records import (
    PREVIOUS,
    ExperimentDecision,
    ExperimentEvent,
    ExperimentState,
    Mode,
)
from titanic_mlops.domain.gate_checks import GateCheck
from titanic_mlops.domain.params import ExperimentParams
from titanic_mlops.domain.records import PromotionEvent, RollbackEvent
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION, ModelRef
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import PredictionLog
from titanic_mlops.stores.shadow_log import ShadowLog


def read_state(paths: StateLayout) -> ExperimentState | None:
    if not paths.experiment_state.exists():
        return None
    return ExperimentState.model_validate_json(paths.experiment_state.read_text())


def testing(state_root: Path) -> str | None:
    """The challenger version a running experiment tests, or None (the policy's rule 5)."""
    state = read_state(StateLayout(state_root))
    return state.challenger_version if state is not None and state.running else None


def write_state(paths: StateLayout, state: ExperimentState) -> ExperimentState:
    atomic.write_text(paths.experiment_state, state.model_dump_json(indent=2))
    return state


def start(
    registry: Registry,
    challenger: ModelRef,
    champion: ModelRef,
    params: ExperimentParams,
    baseline_accuracy: float,
    paths: StateLayout,
) -> ExperimentState:
    """The gate passed with experiment mode on: `challenger` serves beside, `champion` stays."""
    registry.set_alias(CHALLENGER, challenger.version)
    mode: Mode = "canary" if params.mode == "canary" else "shadow"
    required = experiment.required_rows(mode, params, baseline_accuracy)
    state = ExperimentState(
        model_name=challenger.name,
        challenger_version=challenger.version,
        champion_version=champion.version,
        params=params,
        baseline_accuracy=baseline_accuracy,
        required_rows=required,
        started_at=time.time(),
    )
    paths.experiment_guardrail.unlink(missing_ok=True)
    registry.tag(
        challenger.version,
        {
            "experiment_mode": mode,
            "experiment_required_rows": str(required),
            "experiment_decision": "continue",
        },
    )
    return write_state(paths, state)


@dataclass(frozen=True)
class Staging:
    """The gate's second stage: with experiment mode on, a passed candidate becomes `challenger`."""

    params: ExperimentParams | None
    paths: StateLayout

    def stage(
        self,
        registry: Registry,
        candidate: ModelRef,
        champion: ModelRef | None,
        champion_accuracy: float | None,
    ) -> bool:
        """True when the experiment takes over (mode on, a champion to beat); False = promote now."""
        if self.params is None or self.params.mode == "off" or champion is None or champion_accuracy is None:
            return False
        baseline = min(max(champion_accuracy, 0.01), 0.99 - self.params.min_detectable_effect)
        start(registry, candidate, champion, self.params, baseline, self.paths)
        return True


def _since(log: PredictionLog, started: float) -> pd.DataFrame:
    labelled = log.labelled()
    return labelled[labelled["ts"] >= started] if len(labelled) else labelled


def shadow_pairs(state: ExperimentState, log: PredictionLog, shadow: ShadowLog) -> pd.DataFrame:
    """The champion's labelled passengers since the start, each with the challenger's shadow score."""
    labelled = _since(log, state.started_at)
    mine = (
        labelled[labelled["model_version"].astype(str) == state.champion_version]
        if len(labelled)
        else labelled
    )
    return experiment_counts.shadow_pairs(mine, shadow.for_version(state.challenger_version))


def look(
    state: ExperimentState, log: PredictionLog, shadow: ShadowLog, paths: StateLayout
) -> ExperimentDecision:
    """The decision on the labelled rows so far (no side effects)."""
    params = state.params
    breach = _guardrail(paths, state.challenger_version)
    if state.mode == "shadow":
        counts: PairedCounts | ArmCounts = experiment_counts.paired_counts(shadow_pairs(state, log, shadow))
        decision = experiment.decide_shadow(counts, state.required_rows, params)  # type: ignore[arg-type]
    else:
        labelled = _since(log, state.started_at)
        counts = (
            experiment_counts.arm_counts(labelled, state.champion_version, state.challenger_version)
            if len(labelled)
            else ArmCounts(0, 0, 0, 0)
        )
        decision = experiment.decide_canary(counts, state.required_rows, params)  # type: ignore[arg-type]
    if breach is not None and decision.decision == "continue":
        return decision.model_copy(update={"decision": "reject", "reason": f"guardrail: {breach}"})
    return decision


def evaluate(
    registry: Registry, log: PredictionLog, shadow: ShadowLog, paths: StateLayout, history_path: Path
) -> ExperimentDecision | RollbackEvent | None:
    """One monitoring cycle's look: continue, promote or reject (or the post-promotion watch)."""
    state = read_state(paths)
    if state is None:
        return None
    if state.watching:
        return watch(registry, log, state, paths, history_path)
    if not state.running:
        return None
    decision = look(state, log, shadow, paths)
    state = state.model_copy(update={"last": decision})
    if decision.decision == "continue":
        write_state(paths, state)
        return decision
    _act(registry, state, decision, history_path)
    promoted = decision.decision == "promote"
    write_state(
        paths,
        state.model_copy(
            update={"running": False, "watching": promoted, "promoted_at": time.time() if promoted else None}
        ),
    )
    return decision


def _act(
    registry: Registry, state: ExperimentState, decision: ExperimentDecision, history_path: Path
) -> None:
    """Move the aliases, then record the decision everywhere it is read."""
    promoted = decision.decision == "promote"
    if promoted:
        registry.set_alias(PREVIOUS, state.champion_version)
        registry.set_alias(CHAMPION, state.challenger_version)
    registry.delete_alias(CHALLENGER)
    annotate(registry, state.challenger_version, decision)
    history.append(
        history_path,
        ExperimentEvent(
            **decision.model_dump(),
            model_name=state.model_name,
            challenger_version=state.challenger_version,
            champion_version=state.champion_version,
            promoted=promoted,
        ),
    )
    if promoted:  # the manual `rollback` finds the champion it replaced through this event
        history.append(
            history_path,
            PromotionEvent(
                trigger="experiment",
                model_name=state.model_name,
                challenger_version=state.challenger_version,
                champion_before=state.champion_version,
                champion_after=state.challenger_version,
                promoted=True,
                reason=decision.reason,
                checks=[GateCheck(check="experiment", passed=True, detail=decision.reason)],
                metrics={},
            ),
        )


def annotate(registry: Registry, version: str, decision: ExperimentDecision) -> None:
    """The decision on the MLflow version: one tag per statistic, and a readable description."""
    fields = decision.model_dump()
    registry.tag(version, {f"experiment_{k}": "" if v is None else str(v)[:4000] for k, v in fields.items()})
    registry.describe_version(version, decision.describe())


def watch(
    registry: Registry, log: PredictionLog, state: ExperimentState, paths: StateLayout, history_path: Path
) -> RollbackEvent | None:
    """After a promotion: the new champion's window against the old champion's record."""
    last = state.last
    if last is None or state.promoted_at is None or last.champion_accuracy is None:
        write_state(paths, state.model_copy(update={"watching": False}))
        return None
    before_rows = (
        last.labelled_rows
        if state.mode == "shadow"
        else round(last.labelled_rows * (1 - state.params.canary_share))
    )
    labelled = _since(log, state.promoted_at)
    mine = (
        labelled[labelled["model_version"].astype(str) == state.challenger_version]
        if len(labelled)
        else labelled
    )
    right = int((mine["survived"].astype(int) == mine["label"].astype(int)).sum()) if len(mine) else 0
    record = ArmCounts(before_rows, round(last.champion_accuracy * before_rows), len(mine), right)
    result = experiment.decide_regression(record, min(before_rows, state.required_rows), state.params)
    if not result.done:
        return None
    write_state(paths, state.model_copy(update={"watching": False}))
    if not result.regressed or registry.alias(CHAMPION) is None:
        return None
    current = registry.require(CHAMPION)
    if current.version != state.challenger_version:
        return None  # someone moved the alias by hand since: theirs wins
    registry.set_alias(CHAMPION, state.champion_version)
    event = RollbackEvent(
        trigger="regression",
        model_name=state.model_name,
        champion_before=state.challenger_version,
        champion_after=state.champion_version,
        reason=result.reason,
    )
    history.append(history_path, event)
    return event


def record_guardrail(paths: StateLayout, version: str, reason: str) -> None:
    """Serving dropped the challenger: the next evaluation rejects it with this reason."""
    atomic.write_json(paths.experiment_guardrail, {"challenger_version": version, "reason": reason})


def _guardrail(paths: StateLayout, version: str) -> str | None:
    if not paths.experiment_guardrail.exists():
        return None
    found = json.loads(paths.experiment_guardrail.read_text())
    return str(found["reason"]) if found.get("challenger_version") == version else None
