"""The champion of the trained workspace, scored through the scoring service (the API's path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.workspace import Workspace
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import scoring
from titanic_mlops.services.deployment import Deployment

Predict = Callable[[list[dict[str, Any]]], np.ndarray]


def deployment_for(ws: Workspace) -> Deployment:
    return Deployment(Settings(state_dir=ws.state, feature_repo=ws.repo))


def registry_for(ws: Workspace) -> Registry:
    return deployment_for(ws).registry()


@pytest.fixture(scope="session")
def champion(trained_workspace: Workspace) -> scoring.LoadedModel:
    registry = registry_for(trained_workspace)
    return scoring.load_model(registry, registry.require(CHAMPION), "sklearn")


@pytest.fixture(scope="session")
def predict(trained_workspace: Workspace, champion: scoring.LoadedModel) -> Predict:
    deployment = deployment_for(trained_workspace)
    sizes = deployment.ticket_sizes(deployment.feature_store())

    def run(records: list[dict[str, Any]]) -> np.ndarray:
        return scoring.score_records(records, champion, sizes).probability

    return run


def passenger(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "PassengerId": None,
        "Pclass": 3,
        "Name": "Doe, Mr. John",
        "Sex": "male",
        "Age": 30.0,
        "SibSp": 0,
        "Parch": 0,
        "Ticket": "NEW-1",
        "Fare": 8.05,
        "Cabin": None,
        "Embarked": "S",
    }
    record.update(overrides)
    return record


def frame_of(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(records)
