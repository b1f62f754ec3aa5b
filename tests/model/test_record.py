"""What `status --json` reads about the champion: CV scores with spread, holdout intervals, gate checks."""

from __future__ import annotations

import json

from tests.model.conftest import registry_for
from tests.support.workspace import Workspace
from titanic_mlops.domain.records import PromotionEvent
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION
from titanic_mlops.stores import history


def test_the_champion_carries_cv_spread_and_holdout_intervals(trained_workspace: Workspace) -> None:
    registry = registry_for(trained_workspace)
    metrics = registry.describe(registry.require(CHAMPION))["metrics"]
    for name in ("cv_accuracy", "cv_roc_auc"):
        assert 0.5 < metrics[f"{name}_mean"] < 1.0 and 0.0 < metrics[f"{name}_std"] < 0.1
    for name in ("holdout_accuracy", "holdout_roc_auc"):
        assert metrics[f"{name}_low"] < metrics[name] < metrics[f"{name}_high"]
    cv = json.loads(trained_workspace.path("reports/metrics.json").read_text())["cv"]
    assert cv["rule"].startswith("simplest within one standard error")


def test_the_promotion_lists_each_check_with_its_interval(trained_workspace: Workspace) -> None:
    events = [
        e for e in history.read(trained_workspace.state / "history.jsonl") if isinstance(e, PromotionEvent)
    ]
    checks = {c.check: c for c in events[-1].checks}
    baseline = checks["beat_baseline"]
    assert baseline.passed and baseline.low is not None and baseline.low > 0.0
    assert baseline.p_value is not None and baseline.p_value < 0.05
    assert checks["min_roc_auc"].low is not None and checks["min_roc_auc"].high is not None
    # the promoted version stopped being the challenger
    assert registry_for(trained_workspace).alias(CHALLENGER) is None
