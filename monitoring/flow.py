"""The monitoring flow (Prefect 3): one cycle of `services.monitor`, then, if asked, the retraining.

`retrain=True` is the one-shot composition (`titanic-mlops monitor`): when the policy says
retrain, the same retraining service `titanic-mlops retrain` runs is called in this flow run.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from titanic_mlops.domain.params import Params
from titanic_mlops.domain.records import CycleResult, RetrainingOutcome
from titanic_mlops.services import monitor
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.retrain import retrain as retrain_service

# The deployment's stores are inputs that do not hash: no result caching.
run_cycle = task(monitor.run_cycle, name="monitoring_cycle", cache_policy=NO_CACHE)
run_retraining = task(retrain_service, name="retraining", cache_policy=NO_CACHE)


@flow(name="monitor", log_prints=True)
def monitor_flow(
    workspace: Path, params: Params, retrain: bool = False
) -> tuple[CycleResult, RetrainingOutcome | None]:
    """One cycle; with `retrain`, a retraining through the gate when the verdict is retrain."""
    if params.monitor is None:
        raise ValueError("params.yaml has no monitor: section")
    deployment = Deployment()
    result = run_cycle(deployment, workspace, params.monitor)
    get_run_logger().info("monitor: %s (%s)", result.action, result.reason)
    if retrain and result.action == "retrain":
        return result, run_retraining(deployment, workspace, params, "drift")
    return result, None
