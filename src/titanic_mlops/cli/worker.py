"""`titanic-mlops worker`: the loop drives itself (the `monitor` and `retrain` Prefect deployments).

Needs a running Prefect server (PREFECT_API_URL; `make up` starts one on 4200 and this worker
beside it): a worker on a temporary server would schedule into a database that vanishes with it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from titanic_mlops.cli.context import chosen_workspace, deployment, print_json
from titanic_mlops.cli.help import command
from titanic_mlops.domain.errors import TitanicMlopsError

_ENV = (
    ("TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS", "seconds between monitoring cycles (default: 300)"),
    ("PREFECT_API_URL", "the Prefect server (required), e.g. http://127.0.0.1:4200/api"),
)
_EXAMPLES = (
    "titanic-mlops worker --workspace .    (with PREFECT_API_URL=http://127.0.0.1:4200/api)",
    "titanic-mlops worker --status",
)


def _worker(args: argparse.Namespace) -> int:
    if not os.environ.get("PREFECT_API_URL"):
        raise TitanicMlopsError("PREFECT_API_URL is not set; start a server (`make up`) and point at it")
    if args.status:
        from pipelines.worker import loop_status

        print_json(loop_status())
        return 0
    workspace = chosen_workspace(args.workspace).resolve()
    if not (workspace / "dvc.yaml").exists():
        raise TitanicMlopsError(f"{workspace} has no dvc.yaml; pass the DVC workspace with --workspace")
    current = deployment()
    interval = args.interval or current.settings.monitor_interval_seconds
    from monitoring.scheduled import monitor_deployment
    from pipelines.retraining import retrain_deployment
    from pipelines.worker import serve_deployments
    from titanic_mlops import atomic

    # Where `status` finds the loop without PREFECT_API_URL in its own environment.
    pointer = current.settings.state_layout.loop_server
    atomic.write_text(pointer, os.environ["PREFECT_API_URL"] + "\n")
    try:
        serve_deployments(
            monitor_deployment(workspace, interval), retrain_deployment(workspace, current.model_name)
        )
    finally:
        pointer.unlink(missing_ok=True)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    summary = (
        "Serve the `monitor` (scheduled) and `retrain` (drift-triggered) Prefect deployments. "
        "One long-running process: each cycle emits titanic.monitoring.cycle, and the policy's "
        "titanic.drift.detected starts one retraining at a time."
    )
    p = command(sub, "worker", _worker, summary, _EXAMPLES, _ENV)
    p.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="the DVC workspace (dvc.yaml; default: the current directory, or the demo's after `make demo`)",
    )
    p.add_argument(
        "--status",
        action="store_true",
        help="print the schedule, the last and next monitoring run and any retraining in flight, as JSON",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between cycles (default: TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS, 300)",
    )
