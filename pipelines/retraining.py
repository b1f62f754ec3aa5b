"""The retraining flows (Prefect 3): `services.retrain` as one flow run.

`retrain_flow` is what `titanic-mlops retrain` runs by hand. `retrain_on_drift_flow` is the
`retrain` deployment's flow: started by a deployment trigger on the `titanic.drift.detected`
event the scheduled `monitor` deployment emits (the event's payload becomes its parameters), at
most one at a time (a concurrency limit of 1; a trigger while one runs is cancelled, never run in
parallel). The policy already decided; this flow does not re-decide, it runs the same feedback
checks, `dvc repro` and gate, and records the event id and both flow-run ids in the history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.events import DeploymentEventTrigger
from prefect.types.entrypoint import EntrypointType

from titanic_mlops.config.layout import WorkspaceLayout
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.records import FlowRunOrigin, PromotionEvent, RetrainingOutcome
from titanic_mlops.services import retrain
from titanic_mlops.services.deployment import Deployment

DRIFT_EVENT = "titanic.drift.detected"  # emitted by monitoring/scheduled.py (shells share no code)
DEPLOYMENT = "retrain"
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


@flow(name="retrain", log_prints=True)
def retrain_flow(workspace: Path, params: Params, trigger: str = "drift") -> RetrainingOutcome:
    """One retraining attempt over this deployment's stores (the settings decide them)."""
    return retrain.retrain(Deployment(), workspace, params, trigger)


def gate_markdown(outcome: RetrainingOutcome, promotion: PromotionEvent | None, origin: FlowRunOrigin) -> str:
    """The gate's decision as a Prefect artifact: the verdict, then one line per check."""
    lines = [
        f"# Gate: {'promoted' if outcome.promoted else 'not promoted'} v{outcome.new_version or '-'}",
        "",
        f"reason: {outcome.reason}",
        "",
        f"event {origin.event_id}, monitor run {origin.monitor_flow_run_id}",
        "",
    ]
    if promotion is not None:
        lines += ["| check | result | detail |", "|---|---|---|"]
        lines += [f"| {c.check} | {'pass' if c.passed else 'FAIL'} | {c.detail} |" for c in promotion.checks]
    return "\n".join(lines) + "\n"


def _rename(name: str) -> None:
    flow_run_id = runtime.flow_run.id
    if flow_run_id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_name(flow_run_id, name)


@flow(name="retrain-on-drift", log_prints=True)
def retrain_on_drift_flow(
    workspace: str,
    event_id: str | None = None,
    monitor_flow_run_id: str | None = None,
    window_ids: list[int] | None = None,
    drift_share: float | None = None,
    params_file: str = "params.yaml",
) -> dict[str, Any]:
    """One retraining for one drift event; named `retrain-drift-v<new version>` when it ends."""
    root = Path(workspace)
    logger = get_run_logger()
    origin = FlowRunOrigin(
        event_id=event_id, monitor_flow_run_id=monitor_flow_run_id, retrain_flow_run_id=runtime.flow_run.id
    )
    logger.info("drift event %s (window %s, drift share %s)", event_id, window_ids, drift_share)
    outcome = retrain.retrain(Deployment(), root, load_params(root / params_file), "drift", origin)
    promotion_file = WorkspaceLayout(root).promotion
    promotion = (
        PromotionEvent.model_validate_json(promotion_file.read_text())
        if outcome.new_version is not None and promotion_file.exists()
        else None
    )
    create_markdown_artifact(key="gate-decision", markdown=gate_markdown(outcome, promotion, origin))
    _rename(f"retrain-drift-v{outcome.new_version}" if outcome.new_version else "retrain-drift-refused")
    return {**outcome.model_dump(mode="json"), **origin.model_dump()}


def drift_trigger(model_name: str) -> DeploymentEventTrigger:
    """Start `retrain` on each `titanic.drift.detected` about this model, its payload as parameters."""
    return DeploymentEventTrigger(
        name="retrain on drift",
        expect={DRIFT_EVENT},
        match={"prefect.resource.id": f"titanic.model.{model_name}"},
        parameters={
            "event_id": "{{ event.id | string }}",
            "monitor_flow_run_id": "{{ event.payload.monitor_flow_run_id }}",
            "window_ids": "{{ event.payload.window_ids }}",
            "drift_share": "{{ event.payload.drift_share }}",
        },
    )


def retrain_deployment(workspace: Path, model_name: str, flow_: Any = retrain_on_drift_flow) -> Any:
    """The `retrain` deployment: no schedule, the drift trigger, one run at a time."""
    return flow_.to_deployment(
        name=DEPLOYMENT,
        parameters={"workspace": str(workspace)},
        triggers=[drift_trigger(model_name)],
        concurrency_limit=ONE_AT_A_TIME,
        description="Feedback -> batch -> dvc repro -> gate, on titanic.drift.detected.",
        tags=["titanic-mlops", "retraining"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
