"""The training record the pipeline leaves in MLflow: parent, children, inputs, card, no orphans."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.model.conftest import registry_for
from tests.support.workspace import Workspace
from titanic_mlops.adapters.mlflow import card, record
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.params_yaml import load_params


def grid_size(grid: dict[str, list[Any]]) -> int:
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


@pytest.fixture(scope="module")
def registry(trained_workspace: Workspace) -> Registry:
    return registry_for(trained_workspace)


@pytest.fixture(scope="module")
def parent(registry: Registry) -> Any:
    experiment = registry.client.get_experiment_by_name(registry.model_name).experiment_id
    runs = registry.client.search_runs([experiment])  # a `!=` tag filter skips runs without the tag
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    # Other tests of the session may retrain in this workspace: the pipeline's run is version 1's.
    first = registry.version("1").run_id
    assert first in {run.info.run_id for run in parents}
    return next(run for run in parents if run.info.run_id == first)


def test_one_parent_run_named_for_its_version_with_a_child_per_candidate(
    trained_workspace: Workspace, registry: Registry, parent: Any
) -> None:
    version = registry.version("1")
    assert version.run_id == parent.info.run_id
    assert parent.info.run_name == "train-v1-pipeline"
    children = registry.client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    candidates = load_params(trained_workspace.path("params.yaml")).train.candidates
    assert len(children) == sum(grid_size(grid) for grid in candidates.values())
    assert {run.data.params["family"] for run in children} == set(candidates)
    assert all({"cv_mean", "cv_std"} <= set(run.data.metrics) for run in children)
    assert [run.data.tags["selected"] for run in children].count("true") == 1
    experiment = registry.client.get_experiment(parent.info.experiment_id)
    assert experiment.tags[record.EXPERIMENT_KIND] == record.CLASSIC_ML


def test_the_holdout_input_carries_the_digest_of_the_frozen_holdout_file(
    trained_workspace: Workspace, parent: Any
) -> None:
    inputs = {item.dataset.name: item.dataset for item in parent.inputs.dataset_inputs}
    assert set(inputs) == {"train", "holdout"}
    holdout = pd.read_parquet(trained_workspace.path("data/holdout/holdout.parquet"))
    assert inputs["holdout"].digest == record.digest(holdout)
    assert inputs["train"].digest != inputs["holdout"].digest


def test_the_version_description_is_its_model_card_with_the_gate_checks(registry: Registry) -> None:
    description = registry.client.get_model_version(registry.model_name, "1").description
    for heading in (
        "## Intended use",
        "## Data",
        "## Holdout metrics",
        "## Slices (holdout)",
        "## Known limits",
    ):
        assert heading in description
    assert card.GATE_HEADING in description
    assert "| min_accuracy | yes |" in description
    assert "sex=female" in description and "data_md5" in description
    assert registry.client.get_registered_model(registry.model_name).description == card.MODEL_DESCRIPTION


def test_no_run_is_left_running(registry: Registry, parent: Any) -> None:
    running = registry.client.search_runs([parent.info.experiment_id], "attributes.status = 'RUNNING'")
    assert running == []
