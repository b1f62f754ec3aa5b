"""The loop's long-running process: serve the `monitor` and `retrain` deployments (Prefect 3 `serve`).

One process polls the Prefect server (PREFECT_API_URL) for the runs the schedule and the drift
trigger create and executes each in a subprocess. Stopping it pauses the `monitor` schedule (no
backlog of cycles piles up while it is down); starting it again resumes it. Flow runs this
worker left RUNNING when it was killed are marked CRASHED first, so their concurrency slot is
released and the next trigger starts clean.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

logger = logging.getLogger(__name__)


def reconcile_orphans(deployment_names: list[str]) -> list[str]:
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
        )
        for run in runs:
            client.set_flow_run_state(
                run.id, Crashed(message="the worker serving it stopped mid-run"), force=True
            )
            crashed.append(str(run.id))
    for run_id in crashed:
        logger.warning("flow run %s was left running by a stopped worker: marked CRASHED", run_id)
    return crashed


def serve_deployments(*deployments: Any) -> None:
    """Reconcile orphans, then serve until interrupted (SIGTERM/SIGINT)."""
    reconcile_orphans([d.name for d in deployments])
    serve(*deployments, print_starting_message=True)
