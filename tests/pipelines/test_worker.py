"""`pipelines.worker`: how far ahead the runner claims a run, beside the schedules it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitoring import scheduled
from pipelines import worker


def test_runs_are_claimed_only_shortly_before_they_fall_due(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(worker, "reconcile_orphans", lambda names, flows: [])
    monkeypatch.setattr(worker, "serve", lambda *deployments, **options: served.update(options))
    worker.serve_deployments(scheduled.monitor_deployment(Path("/srv/work"), 5))
    # A claim is judged by the one-at-a-time limit at once: claimed 10 s ahead (Prefect's
    # default), every run due within 10 s of a cycle's end was cancelled while it ran.
    assert served["prefetch_seconds"] == worker.PREFETCH_SECONDS
    assert 0 < worker.PREFETCH_SECONDS < 5, "within the demo's 5 s interval, the shortest schedule shipped"
