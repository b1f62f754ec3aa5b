"""The retraining flow (Prefect 3): `services.retrain` as one flow run, with its steps as tasks.

`titanic-mlops retrain` runs it by hand; the monitoring flow's one-shot mode reaches the same
service when its policy says retrain.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from titanic_mlops.domain.params import Params
from titanic_mlops.domain.records import RetrainingOutcome
from titanic_mlops.services import retrain
from titanic_mlops.services.deployment import Deployment


@flow(name="retrain", log_prints=True)
def retrain_flow(workspace: Path, params: Params, trigger: str = "drift") -> RetrainingOutcome:
    """One retraining attempt over this deployment's stores (the settings decide them)."""
    return retrain.retrain(Deployment(), workspace, params, trigger)
