"""The monitoring flow (Prefect 3): one cycle of `services.monitor`, then, if asked, the retraining.

`retrain=True` is the one-shot composition (`titanic-mlops monitor`): when the policy says
retrain, the same retraining service `titanic-mlops retrain` runs is called in this flow run.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from titanic_mlops.domain.experiment_records import ExperimentDecision
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.records import CycleResult, RetrainingOutcome, RollbackEvent
from titanic_mlops.services import experiment_cycle, monitor
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.retrain import retrain as retrain_service

# The deployment's stores are inputs that do not hash: no result caching.
run_cycle = task(name="monitoring_cycle", cache_policy=NO_CACHE)(monitor.run_cycle)
run_retraining = task(name="retraining", cache_policy=NO_CACHE)(retrain_service)


@task(name="experiment", cache_policy=NO_CACHE)
def run_experiment(deployment: Deployment) -> ExperimentDecision | RollbackEvent | None:
    """Evaluate the running experiment; its decision becomes a Prefect artifact."""
    outcome = experiment_cycle.run(deployment)
    if outcome is not None:
        create_markdown_artifact(
            key="experiment", markdown=experiment_cycle.describe(outcome), description="online A/B test"
        )
    return outcome


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
    run_experiment(deployment)  # a12: the online A/B test's look of this cycle
    if retrain and result.action == "retrain":
        return result, run_retraining(deployment, workspace, params, "drift")
    return result, None
