"""The loop's two Prefect deployments as built (no server): schedule, trigger, limits, names."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.objects import ConcurrencyLimitStrategy

from monitoring import scheduled
from pipelines import retraining
from tests.support.workspace import ROOT
from titanic_mlops.domain.gate_checks import GateCheck
from titanic_mlops.domain.records import CycleResult, FlowRunOrigin, PromotionEvent, RetrainingOutcome
from titanic_mlops.services import monitor

WORK = Path("/srv/work")
CYCLE, DRIFT = "titanic.monitoring.cycle", "titanic.drift.detected"


def _cycle(action: str = "retrain", window_ids: list[int] | None = None) -> CycleResult:
    return CycleResult(
        time=0.0,
        model_name="titanic-survival",
        window_rows=150,
        drift_detected=action == "retrain",
        drift_share=0.5,
        drifted_columns=4,
        live_accuracy=0.61,
        action=action,  # type: ignore[arg-type]
        reason="drift persisted",
        drifted=["Sex", "Pclass"],
        reference_version="3",
        window_ids=window_ids,
    )


def test_monitor_deployment_runs_the_cycle_on_the_interval_one_at_a_time() -> None:
    built = scheduled.monitor_deployment(WORK, 15)
    assert built.name == "monitor"
    (schedule,) = built.schedules
    assert schedule.schedule.interval == datetime.timedelta(seconds=15)
    assert schedule.schedule.anchor_date == scheduled.ANCHOR
    assert built.parameters == {"workspace": str(WORK)}
    assert built.concurrency_limit == 1
    assert built.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert built.entrypoint == "monitoring.scheduled.monitoring_cycle_flow"
    assert not built.triggers, "the monitor never starts a retraining"


def test_retrain_deployment_is_started_by_the_drift_event_once_at_a_time() -> None:
    built = retraining.retrain_deployment(WORK, "titanic-survival")
    assert built.name == "retrain"
    assert not built.schedules
    (trigger,) = built.triggers
    assert trigger.expect == {scheduled.DRIFT_EVENT} == {retraining.DRIFT_EVENT}
    assert trigger.match.model_dump()["prefect.resource.id"] == "titanic.model.titanic-survival"
    assert trigger.parameters is not None
    assert trigger.parameters["event_id"] == "{{ event.id | string }}"
    assert trigger.parameters["monitor_flow_run_id"] == "{{ event.payload.monitor_flow_run_id }}"
    assert built.concurrency_limit == 1
    assert built.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert built.entrypoint == "pipelines.retraining.retrain_on_drift_flow"


def test_the_cycle_event_carries_the_verdict_and_the_snapshot() -> None:
    payload = scheduled.cycle_payload(_cycle(window_ids=[7, 156]), {"drift": "abc"}, "run-1")
    assert payload["window_rows"] == 150
    assert payload["drift_share"] == 0.5
    assert payload["live_accuracy"] == 0.61
    assert payload["action"] == "retrain"
    assert payload["snapshot_id"] == "abc"
    assert payload["monitor_flow_run_id"] == "run-1"
    assert scheduled.model_resource("m")["prefect.resource.id"] == "titanic.model.m"


def test_flow_runs_are_named_by_what_they_did() -> None:
    assert scheduled.run_name(_cycle(window_ids=[7, 156])) == "monitor-7-156"
    assert scheduled.run_name(_cycle("none")) == "monitor-wait-150"
    markdown = scheduled.verdict_markdown(_cycle(window_ids=[7, 156]), {"drift": "abc"})
    assert markdown.startswith("# Monitoring verdict: retrain")
    assert "| drifted columns | Sex, Pclass |" in markdown


def test_the_gate_artifact_lists_each_check_as_pass_or_fail() -> None:
    checks = [GateCheck(check="holdout accuracy", passed=True, detail="0.81 >= 0.80"),
              GateCheck(check="recent accuracy", passed=False, detail="0.60 < 0.70")]  # fmt: skip
    promotion = PromotionEvent(
        trigger="drift", model_name="m", challenger_version="4", champion_before="3",
        champion_after="3", promoted=False, reason="recent accuracy", checks=checks, metrics={},
    )  # fmt: skip
    outcome = RetrainingOutcome(promoted=False, reason="recent accuracy", new_version="4")
    text = retraining.gate_markdown(outcome, promotion, FlowRunOrigin(event_id="e1"))
    assert text.startswith("# Gate: not promoted v4")
    assert "| holdout accuracy | pass | 0.81 >= 0.80 |" in text
    assert "| recent accuracy | FAIL | 0.60 < 0.70 |" in text
    assert "event e1" in text


@pytest.mark.parametrize(("action", "events"), [("none", [CYCLE]), ("retrain", [CYCLE, DRIFT])])
def test_a_cycle_announces_itself_and_only_a_retrain_verdict_announces_drift(
    action: str, events: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    cycle = monitor.Cycle(_cycle(action, window_ids=[1, 150]), {"drift": "snap-1"})
    sent: list[tuple[str, dict[str, str], dict[str, Any]]] = []
    artifacts: list[str] = []
    monkeypatch.setattr(scheduled.monitor, "run_recorded_cycle", lambda *_: cycle)
    monkeypatch.setattr(
        scheduled, "emit_event", lambda event, resource, payload: sent.append((event, resource, payload))
    )
    monkeypatch.setattr(scheduled, "create_markdown_artifact", lambda key, markdown: artifacts.append(key))
    monkeypatch.setattr(scheduled, "get_run_logger", lambda: logging.getLogger("test"))
    looks: list[Any] = []  # the online experiment's look: once a cycle, as in the one-shot monitor
    monkeypatch.setattr(scheduled, "run_experiment", looks.append)
    payload = scheduled.monitoring_cycle_flow.fn(str(tmp_path))
    assert len(looks) == 1
    assert [name for name, _, _ in sent] == events
    assert all(resource["prefect.resource.id"] == "titanic.model.titanic-survival" for _, resource, _ in sent)
    assert all(p == payload for _, _, p in sent) and payload["snapshot_id"] == "snap-1"
    assert artifacts == ["monitoring-verdict"]
