"""The promotion gate in action: evaluate challenger and champion, decide, move the alias, record.

The decision itself is `promotion.decide`; this module only gathers its inputs and acts on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops import dataset, evaluation, history, promotion, promotion_lock
from titanic_mlops.params import PromoteParams
from titanic_mlops.registry import CHALLENGER, CHAMPION, ModelRef, Registry


def evaluate_version(registry: Registry, ref: ModelRef, frame: pd.DataFrame) -> dict[str, Any]:
    x, y = dataset.xy(frame)
    return evaluation.evaluate(registry.load_sklearn(ref), x, y)


def run_gate(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    recent: pd.DataFrame | None = None,
    lock_url: str | None = None,
) -> dict[str, Any]:
    """Judge `candidate` on the frozen holdout (and the recent labelled window, when given).

    One gate at a time per model (`promotion_lock`; a file lock next to the history unless
    `lock_url` names another): the champion it compares with is the one it may replace.
    """
    url = lock_url or f"file://{history_path.parent / 'locks'}"
    with promotion_lock.hold(url, f"promotion-{registry.model_name}"):
        return _judge(registry, candidate, holdout, policy, history_path, trigger, recent)


def _judge(
    registry: Registry,
    candidate: ModelRef,
    holdout: pd.DataFrame,
    policy: PromoteParams,
    history_path: Path,
    trigger: str,
    recent: pd.DataFrame | None,
) -> dict[str, Any]:
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
    event = {
        "event": "promotion",
        "trigger": trigger,
        "model_name": candidate.name,
        "challenger_version": candidate.version,
        "champion_before": champion.version if champion else None,
        "champion_after": candidate.version if decision.promote else (champion.version if champion else None),
        "promoted": decision.promote,
        "reason": decision.reason,
        "checks": decision.checks,
        "metrics": {
            c.name: {
                "challenger": c.challenger["overall"],
                "champion": c.champion["overall"] if c.champion else None,
            }
            for c in comparisons
        },
    }
    return history.append(history_path, event)


def rollback(registry: Registry, history_path: Path, reason: str) -> dict[str, Any]:
    """Move `champion` back to the version it held before the current one."""
    from titanic_mlops.errors import ModelNotFound

    current = registry.require(CHAMPION)
    previous = None
    for event in reversed(history.read(history_path)):
        if (
            event.get("event") == "promotion"
            and event.get("champion_after") == current.version
            and event.get("champion_before") not in (None, current.version)
        ):
            previous = str(event["champion_before"])
            break
    if previous is None:
        raise ModelNotFound(f"no earlier champion to roll back to from version {current.version}")
    registry.set_alias(CHAMPION, previous)
    return history.append(
        history_path,
        {
            "event": "rollback",
            "trigger": "manual",
            "model_name": current.name,
            "champion_before": current.version,
            "champion_after": previous,
            "promoted": True,
            "reason": reason,
        },
    )
