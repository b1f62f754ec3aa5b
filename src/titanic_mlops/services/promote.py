"""Stage `promote`, the gate in action: evaluate challenger and champion, decide, move the alias.

The decision itself is `domain.promotion.decide`; this module only gathers its inputs, acts on
it and records it. `rollback` moves the alias back by hand.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pandas as pd

from titanic_mlops.adapters.mlflow import record
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import dataset, evaluation, fairness_gate, promotion
from titanic_mlops.domain.errors import ModelNotFound
from titanic_mlops.domain.gate_checks import GateCheck
from titanic_mlops.domain.metrics import EvaluationReport
from titanic_mlops.domain.params import PromoteParams
from titanic_mlops.domain.records import PromotionEvent, RollbackEvent, SetMetrics
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION, PREVIOUS, ModelRef
from titanic_mlops.services import fairness as fairness_service
from titanic_mlops.services.experiment import Staging
from titanic_mlops.stores import history


def evaluate_version(registry: Registry, ref: ModelRef, frame: pd.DataFrame) -> EvaluationReport:
    inputs, labels = dataset.inputs_and_labels(frame)
    return evaluation.evaluate(registry.load_sklearn(ref), inputs, labels)


def score_version(registry: Registry, ref: ModelRef, inputs: pd.DataFrame) -> np.ndarray:
    """P(survived) of one registered version on a frame's model inputs."""
    return np.asarray(registry.load_sklearn(ref).predict_proba(inputs))[:, 1]


def comparison(
    registry: Registry, name: str, frame: pd.DataFrame, candidate: ModelRef, champion: ModelRef | None
) -> promotion.Comparison:
    """Both models on the same passengers: what the paired checks need."""
    inputs, labels = dataset.inputs_and_labels(frame)
    new = score_version(registry, candidate, inputs)
    old = score_version(registry, champion, inputs) if champion else None
    return promotion.compare(name, inputs, labels, new, old)


def run_gate(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    lock: AbstractContextManager[None],
    recent: pd.DataFrame | None = None,
    staging: Staging | None = None,
) -> PromotionEvent:
    """Judge `candidate` on the frozen holdout (and the recent labelled window, when given).

    Under `lock` (one gate at a time per model): the champion it compares with is the one it may
    replace.
    """
    with lock:
        return _judge(registry, candidate, holdout, policy, history_path, trigger, recent, staging)


def _judge(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    recent: pd.DataFrame | None,
    staging: Staging | None = None,
) -> PromotionEvent:
    registry.set_alias(CHALLENGER, candidate.version)
    champion = registry.alias(CHAMPION)
    sets = {"holdout": holdout}
    if recent is not None and len(recent):
        sets["recent"] = recent
    comparisons = [comparison(registry, name, frame, candidate, champion) for name, frame in sets.items()]
    decision = promotion.decide(comparisons[0], comparisons[1:], policy)
    if policy.fairness is not None:  # hook (r14): fairness by group on the holdout, both models
        decision = fairness_gate.with_checks(
            decision, fairness_checks(registry, candidate, champion, holdout, policy)
        )
    staged = decision.promote and _stage(staging, registry, candidate, champion, comparisons[0])  # a12
    if decision.promote and not staged:
        _move_aliases(registry, candidate, champion)
    registry.tag(
        candidate.version,
        {
            "promotion_decision": "staged" if staged else "promoted" if decision.promote else "refused",
            "promotion_reason": decision.reason[:4000],
            "promotion_trigger": trigger,
        },
    )
    record.append_gate(registry, candidate.version, decision.model_dump(mode="json"))
    before = champion.version if champion else None
    event = PromotionEvent(
        trigger=trigger,
        model_name=candidate.name,
        challenger_version=candidate.version,
        champion_before=before,
        champion_after=candidate.version if decision.promote and not staged else before,
        promoted=decision.promote and not staged,
        reason=decision.reason + ("; staged as challenger: the online experiment decides" if staged else ""),
        checks=decision.checks,
        metrics={
            c.name: SetMetrics(
                challenger=c.challenger_report.overall,
                champion=c.champion_report.overall if c.champion_report else None,
            )
            for c in comparisons
        },
    )
    history.append(history_path, event)
    return event


def _move_aliases(registry: Registry, candidate: ModelRef, champion: ModelRef | None) -> None:
    """The candidate becomes `champion` and stops being `challenger`; the champion it replaced
    keeps an alias of its own, `previous`."""
    registry.set_alias(CHAMPION, candidate.version)
    registry.delete_alias(CHALLENGER)
    if champion is not None and champion.version != candidate.version:
        registry.set_alias(PREVIOUS, champion.version)


def _stage(
    staging: Staging | None,
    registry: Registry,
    candidate: ModelRef,
    champion: ModelRef | None,
    holdout: promotion.Comparison,
) -> bool:
    """With experiment mode on, the candidate stays `challenger` (services/experiment.py)."""
    held = holdout.champion_report.overall.accuracy if holdout.champion_report else None
    return staging is not None and staging.stage(registry, candidate, champion, held)


def fairness_checks(
    registry: Registry,
    candidate: ModelRef,
    champion: ModelRef | None,
    holdout: pd.DataFrame,
    policy: PromoteParams,
) -> list[GateCheck]:
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
