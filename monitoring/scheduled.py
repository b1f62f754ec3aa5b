"""The `monitor` deployment: one monitoring cycle on a schedule, announced as Prefect events.

Each cycle emits `titanic.monitoring.cycle` (resource: the model) and, when the policy says
retrain, `titanic.drift.detected`; the `retrain` deployment's trigger (pipelines/retraining.py)
listens for the second. This flow never starts a retraining itself: the policy decided, the
event carries the decision, and Prefect's automation (with its concurrency limit) runs it.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.events import emit_event
from prefect.schedules import Interval
from prefect.types.entrypoint import EntrypointType

from monitoring.flow import run_experiment
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain.records import CycleResult
from titanic_mlops.services import monitor
from titanic_mlops.services.deployment import Deployment

CYCLE_EVENT = "titanic.monitoring.cycle"
DRIFT_EVENT = "titanic.drift.detected"
DEPLOYMENT = "monitor"
# Schedules count from a fixed point, so a restarted worker keeps the same slots.
ANCHOR = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def model_resource(model_name: str) -> dict[str, str]:
    """The Prefect resource both events are about: the registered model."""
    return {"prefect.resource.id": f"titanic.model.{model_name}", "prefect.resource.name": model_name}


def cycle_payload(
    result: CycleResult, snapshot_ids: dict[str, str], flow_run_id: str | None
) -> dict[str, Any]:
    """What `titanic.monitoring.cycle` carries (and the retraining trigger passes on)."""
    return {
        "window_rows": result.window_rows,
        "window_ids": result.window_ids,
        "drift_share": result.drift_share,
        "live_accuracy": result.live_accuracy,
        "action": result.action,
        "reason": result.reason,
        "model_version": result.reference_version,
        "snapshot_id": snapshot_ids.get("drift"),
        "snapshot_ids": snapshot_ids,
        "monitor_flow_run_id": flow_run_id,
    }


def run_name(result: CycleResult) -> str:
    """`monitor-<first>-<last>` for a judged window, `monitor-wait-<rows>` for one too small."""
    if result.window_ids:
        return f"monitor-{result.window_ids[0]}-{result.window_ids[1]}"
    return f"monitor-wait-{result.window_rows}"


def verdict_markdown(result: CycleResult, snapshot_ids: dict[str, str]) -> str:
    rows = [
        ("action", result.action),
        ("reason", result.reason),
        ("window rows", result.window_rows),
        ("window ids", result.window_ids),
        ("drift share", result.drift_share),
        ("drifted columns", ", ".join(result.drifted) or "-"),
        ("live accuracy", result.live_accuracy),
        ("model version", result.reference_version),
        ("Evidently snapshots", ", ".join(f"{k} {v}" for k, v in snapshot_ids.items()) or "-"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"# Monitoring verdict: {result.action}\n\n| | |\n|---|---|\n{table}\n"


def rename_current_run(name: str) -> None:
    """Give the running flow run a name that says what it did (known only at its end)."""
    flow_run_id = runtime.flow_run.id
    if flow_run_id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(flow_run_id, name)


@flow(name="monitoring-cycle", log_prints=True)
def monitoring_cycle_flow(workspace: str, params_file: str = "params.yaml") -> dict[str, Any]:
    """One cycle of `services.monitor`; events and a markdown artifact say what it decided."""
    root = Path(workspace)
    params = load_params(root / params_file)
    if params.monitor is None:
        raise ValueError(f"{root / params_file} has no monitor: section")
    deployment = Deployment()
    cycle = monitor.run_recorded_cycle(deployment, root, params.monitor)
    result = cycle.result
    run_experiment(deployment)  # the online A/B test's look of this cycle, as the one-shot monitor does
    flow_run_id = runtime.flow_run.id
    payload = cycle_payload(result, cycle.snapshot_ids, flow_run_id)
    resource = model_resource(deployment.model_name)
    emit_event(event=CYCLE_EVENT, resource=resource, payload=payload)
    if result.action == "retrain":
        emit_event(event=DRIFT_EVENT, resource=resource, payload=payload)
    create_markdown_artifact(key="monitoring-verdict", markdown=verdict_markdown(result, cycle.snapshot_ids))
    rename_current_run(run_name(result))
    get_run_logger().info("monitor: %s (%s)", result.action, result.reason)
    return payload


def monitor_deployment(workspace: Path, interval_seconds: float) -> Any:
    """The `monitor` deployment: the cycle every `interval_seconds`; a run due while one runs is cancelled."""
    return monitoring_cycle_flow.to_deployment(
        name=DEPLOYMENT,
        schedule=Interval(datetime.timedelta(seconds=interval_seconds), anchor_date=ANCHOR),
        parameters={"workspace": str(workspace)},
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="One monitoring cycle over the prediction log (emits titanic.drift.detected).",
        tags=["titanic-mlops", "monitoring"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
