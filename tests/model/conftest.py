"""The champion of the trained workspace, scored through the shared prediction path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import Workspace
from titanic_mlops import feature_store, prediction
from titanic_mlops.registry import CHAMPION, Registry
from titanic_mlops.settings import Settings

Predict = Callable[[list[dict[str, Any]]], np.ndarray]


def registry_for(ws: Workspace) -> Registry:
    settings = Settings(state_dir=ws.state)
    return Registry(settings.resolved_tracking_uri, settings.resolved_artifact_root, settings.model_name)


@pytest.fixture(scope="session")
def champion(trained_workspace: Workspace) -> prediction.LoadedModel:
    registry = registry_for(trained_workspace)
    return prediction.load_model(registry, registry.require(CHAMPION), "sklearn")


@pytest.fixture(scope="session")
def predict(trained_workspace: Workspace, champion: prediction.LoadedModel) -> Predict:
    store = feature_store.open_store(trained_workspace.repo, trained_workspace.state)

    def run(records: list[dict[str, Any]]) -> np.ndarray:
        raw = prediction.records_frame(records)
        scored = prediction.score(raw, champion, lambda t: feature_store.online_ticket_group_sizes(store, t))
        return scored.probability

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
