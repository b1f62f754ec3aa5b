"""Stage `promote`, the gate in action: evaluate challenger and champion, decide, move the alias.

The decision itself is `domain.promotion.decide`; this module only gathers its inputs, acts on
it and records it. `rollback` moves the alias back by hand.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd

from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import dataset, evaluation, fairness_gate, promotion
from titanic_mlops.domain.errors import ModelNotFound
from titanic_mlops.domain.params import PromoteParams
from titanic_mlops.domain.records import PromotionEvent, RollbackEvent, SetMetrics
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION, ModelRef
from titanic_mlops.services import fairness as fairness_service
from titanic_mlops.stores import history


def evaluate_version(registry: Registry, ref: ModelRef, frame: pd.DataFrame) -> evaluation.EvaluationReport:
    inputs, labels = dataset.inputs_and_labels(frame)
    return evaluation.evaluate(registry.load_sklearn(ref), inputs, labels)


def run_gate(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    lock: AbstractContextManager[None],
    recent: pd.DataFrame | None = None,
) -> PromotionEvent:
    """Judge `candidate` on the frozen holdout (and the recent labelled window, when given).

    Under `lock` (one gate at a time per model): the champion it compares with is the one it may
    replace.
    """
    with lock:
        return _judge(registry, candidate, holdout, policy, history_path, trigger, recent)


def _judge(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    recent: pd.DataFrame | None,
) -> PromotionEvent:
    registry.set_alias(CHALLENGER, candidate.version)
    champion = registry.alias(CHAMPION)
    sets = {"holdout": holdout}
    if recent is not None and len(recent):
        sets["recent"] = recent
    comparisons = [
        promotion.Comparison(
            name,
            evaluate_version(registry, candidate, frame),
            evaluate_version(registry, champion, frame) if champion else None,
        )
        for name, frame in sets.items()
    ]
    decision = promotion.decide(comparisons[0], comparisons[1:], policy)
    if policy.fairness is not None:  # hook (r14): fairness by group on the holdout, both models
        decision = fairness_gate.with_checks(
            decision, fairness_checks(registry, candidate, champion, holdout, policy)
        )
    if decision.promote:
        registry.set_alias(CHAMPION, candidate.version)
    registry.tag(
        candidate.version,
        {
            "promotion_decision": "promoted" if decision.promote else "refused",
            "promotion_reason": decision.reason[:4000],
            "promotion_trigger": trigger,
        },
    )
    before = champion.version if champion else None
    event = PromotionEvent(
        trigger=trigger,
        model_name=candidate.name,
        challenger_version=candidate.version,
        champion_before=before,
        champion_after=candidate.version if decision.promote else before,
        promoted=decision.promote,
        reason=decision.reason,
        checks=decision.checks,
        metrics={
            c.name: SetMetrics(
                challenger=c.challenger.overall, champion=c.champion.overall if c.champion else None
            )
            for c in comparisons
        },
    )
    history.append(history_path, event)
    return event


def fairness_checks(
    registry: Registry,
    candidate: ModelRef,
    champion: ModelRef | None,
    holdout: pd.DataFrame,
    policy: PromoteParams,
) -> list[promotion.GateCheck]:
    """The gate's fairness checks: the challenger's gaps on the holdout vs the ceiling and the champion's."""
    assert policy.fairness is not None
    new = fairness_service.model_reports(registry.load_sklearn(candidate), holdout)
    old = fairness_service.model_reports(registry.load_sklearn(champion), holdout) if champion else None
    return fairness_gate.gate_checks(new, old, policy.fairness)


def rollback(registry: Registry, history_path: Path, reason: str) -> RollbackEvent:
    """Move `champion` back to the version it held before the current one."""
    current = registry.require(CHAMPION)
    previous = None
    for event in reversed(history.read(history_path)):
        if (
            isinstance(event, PromotionEvent)
            and event.champion_after == current.version
            and event.champion_before not in (None, current.version)
        ):
            previous = str(event.champion_before)
            break
    if previous is None:
        raise ModelNotFound(f"no earlier champion to roll back to from version {current.version}")
    registry.set_alias(CHAMPION, previous)
    event = RollbackEvent(
        model_name=current.name, champion_before=current.version, champion_after=previous, reason=reason
    )
    history.append(history_path, event)
    return event
