"""The loop's long-running process: serve the `monitor` and `retrain` deployments (Prefect 3 `serve`).

One process polls the Prefect server (PREFECT_API_URL) for the runs the schedule and the drift
trigger create and executes each in a subprocess. Stopping it pauses the `monitor` schedule (no
backlog of cycles piles up while it is down); starting it again resumes it. Flow runs this
worker left RUNNING when it was killed are marked CRASHED first, so their concurrency slot is
released and the next trigger starts clean.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.client.schemas.sorting import FlowRunSort
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Crashed

logger = logging.getLogger(__name__)

# How far ahead the runner claims a scheduled run (Prefect's default is 10 s). A claim proposes
# PENDING, and the `monitor` deployment's limit (one at a time, CANCEL_NEW) judges the run then:
# a run claimed while the previous cycle still works is cancelled, however free the slot is by
# the time it falls due. With 10 s, every run due up to 10 s after a judged cycle (~7 s here)
# ended was cancelled; 3 s still covers the interpreter's start (~2.5 s here), so a run begins
# on time (docs/monitoring.md, "make demo").
PREFETCH_SECONDS = 3


def reconcile_orphans(deployment_names: list[str], flow_names: list[str]) -> list[str]:
    """Mark this worker's deployments' RUNNING/PENDING flow runs CRASHED (the worker was not running)."""
    crashed: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                )
            ),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=deployment_names)),
            flow_filter=FlowFilter(name=FlowFilterName(any_=flow_names)),  # only ours on a shared server
        )
        for run in runs:  # orchestrated (not forced), so the server also releases its concurrency slot
            client.set_flow_run_state(run.id, Crashed(message="the worker serving it stopped mid-run"))
            crashed.append(str(run.id))
    for run_id in crashed:
        logger.warning("flow run %s was left running by a stopped worker: marked CRASHED", run_id)
    return crashed


def serve_deployments(*deployments: Any) -> None:
    """Reconcile orphans, then serve until interrupted (SIGTERM/SIGINT)."""
    reconcile_orphans([d.name for d in deployments], [d.flow_name for d in deployments])
    serve(*deployments, print_starting_message=True, prefetch_seconds=PREFETCH_SECONDS)


def _runs(
    client: Any, deployment_id: Any, states: list[StateType], sort: FlowRunSort, limit: int
) -> list[Any]:
    return list(
        client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)),
            ),
            sort=sort,
            limit=limit,
        )
    )


def _run_summary(run: Any) -> dict[str, Any]:
    return {
        "name": run.name,
        "id": str(run.id),
        "state": run.state_type.value if run.state_type else None,
        "start_time": run.start_time.isoformat() if run.start_time else None,
        "expected_start_time": run.expected_start_time.isoformat() if run.expected_start_time else None,
    }


def loop_status(
    api_url: str | None = None,
    monitor_name: str = "monitoring-cycle/monitor",
    retrain_name: str = "retrain-on-drift/retrain",
) -> dict[str, Any]:
    """The schedule, the last and next monitoring run and any retraining in flight, from the server.

    `api_url` names the server when this process's settings do not (`status` reads it from the
    worker's pointer file); without it, PREFECT_API_URL.
    """
    with contextlib.ExitStack() as stack:
        if api_url:
            stack.enter_context(temporary_settings({PREFECT_API_URL: api_url}))
        return _read_loop(monitor_name, retrain_name)


def _read_loop(monitor_name: str, retrain_name: str) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        monitor = client.read_deployment_by_name(monitor_name)
        retrain = client.read_deployment_by_name(retrain_name)
        done = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED]
        last = _runs(client, monitor.id, done, FlowRunSort.END_TIME_DESC, 1)
        upcoming = _runs(client, monitor.id, [StateType.SCHEDULED], FlowRunSort.EXPECTED_START_TIME_ASC, 1)
        flying = _runs(
            client, retrain.id, [StateType.RUNNING, StateType.PENDING], FlowRunSort.START_TIME_DESC, 5
        )
    schedule = monitor.schedules[0].schedule if monitor.schedules else None
    interval = schedule.interval if isinstance(schedule, IntervalSchedule) else None
    return {
        "monitor_schedule_seconds": interval.total_seconds() if interval else None,
        "monitor_paused": bool(monitor.paused),
        "last_monitoring_run": _run_summary(last[0]) if last else None,
        "next_monitoring_run": _run_summary(upcoming[0]) if upcoming else None,
        "retraining_in_flight": [_run_summary(r) for r in flying],
    }
