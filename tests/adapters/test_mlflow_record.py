"""The training record: child runs per candidate, inputs with digests, the card, orphan runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from titanic_mlops.adapters.mlflow import card, record
from titanic_mlops.adapters.mlflow.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Row:
    """A leaderboard row as domain.training writes it (fields added there are logged too)."""

    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_std: float
    rank_in_family: int


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("mlflow")
    return Registry(f"sqlite:///{root}/mlflow.db", str(root / "artifacts"), "record-test")


@pytest.fixture(scope="module")
def recorded(registry: Registry) -> Iterator[dict[str, Any]]:
    rows = [
        Row("logistic_regression", {"C": 0.1}, 0.85, 0.02, 2),
        Row("logistic_regression", {"C": 1.0}, 0.86, 0.01, 1),
    ]
    train = pd.DataFrame({"age": [22.0, 38.0, 26.0], "Survived": [0, 1, 1]})
    holdout = pd.DataFrame({"age": [35.0, 54.0], "Survived": [1, 0]})
    with record.training_run(registry, "train-pipeline", {"git_commit": "abc"}) as run_id:
        children = record.log_candidates(
            registry, rows, {"family": "logistic_regression", "params": {"C": 1.0}}
        )
        record.log_inputs(
            [
                record.InputSet("train", train, "data/validated/train.parquet", "training", "Survived"),
                record.InputSet("holdout", holdout, "data/holdout/holdout.parquet", "holdout", "Survived"),
            ]
        )
    registry.client.create_registered_model(registry.model_name)
    version = registry.client.create_model_version(registry.model_name, f"runs:/{run_id}/model", run_id)
    record.describe(registry, run_id, version.version, f"train-v{version.version}-pipeline", "# the card\n")
    yield {
        "run_id": run_id,
        "children": children,
        "version": version.version,
        "train": train,
        "holdout": holdout,
    }


def test_each_candidate_is_a_finished_child_run_with_its_params_and_cv_scores(
    registry: Registry, recorded: dict[str, Any]
) -> None:
    client = registry.client
    experiment = client.get_experiment_by_name(registry.model_name).experiment_id
    found = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{recorded['run_id']}'")
    assert sorted(run.info.run_id for run in found) == sorted(recorded["children"])
    by_c = {run.data.params["model.C"]: run for run in found}
    assert by_c["1.0"].data.metrics == {"cv_mean": 0.86, "cv_std": 0.01, "rank_in_family": 1.0}
    assert by_c["1.0"].data.params["family"] == "logistic_regression"
    assert by_c["1.0"].data.tags["selected"] == "true" and by_c["0.1"].data.tags["selected"] == "false"
    assert by_c["0.1"].info.run_name == "logistic_regression C=0.1"
    assert {run.info.status for run in found} == {"FINISHED"}


def test_the_parent_run_is_named_after_its_version_and_its_inputs_carry_digests(
    registry: Registry, recorded: dict[str, Any]
) -> None:
    run = registry.client.get_run(recorded["run_id"])
    assert run.info.run_name == f"train-v{recorded['version']}-pipeline"
    assert run.info.status == "FINISHED"
    inputs = {item.dataset.name: item for item in run.inputs.dataset_inputs}
    assert set(inputs) == {"train", "holdout"}
    assert inputs["train"].dataset.digest == record.digest(recorded["train"])
    assert inputs["holdout"].dataset.digest == record.digest(recorded["holdout"])
    assert json.loads(inputs["holdout"].dataset.source)["uri"] == "data/holdout/holdout.parquet"
    contexts = {
        tag.value for item in inputs.values() for tag in item.tags if tag.key == "mlflow.data.context"
    }
    assert contexts == {"training", "holdout"}


def test_a_digest_changes_with_one_value() -> None:
    frame = pd.DataFrame({"age": [22.0, 38.0]})
    assert record.digest(frame) == record.digest(frame.copy())
    assert record.digest(frame) != record.digest(frame.assign(age=[22.0, 39.0]))


def test_the_experiment_opens_in_the_classic_ml_view_and_the_model_is_described(
    registry: Registry, recorded: dict[str, Any]
) -> None:
    client = registry.client
    experiment = client.get_experiment_by_name(registry.model_name)
    assert experiment.tags[record.EXPERIMENT_KIND] == "custom_model_development"
    assert client.get_registered_model(registry.model_name).description == card.MODEL_DESCRIPTION
    assert client.get_model_version(registry.model_name, recorded["version"]).description == "# the card\n"


def test_the_gate_section_is_appended_once_and_replaced_on_a_second_decision(
    registry: Registry, recorded: dict[str, Any]
) -> None:
    version = recorded["version"]
    check = {"check": "beat_baseline", "passed": False, "detail": "0.79 vs 0.78", "interval": [-0.01, 0.03]}
    record.append_gate(
        registry, version, {"promote": False, "reason": "refused: no margin", "checks": [check]}
    )
    record.append_gate(
        registry, version, {"promote": True, "reason": "promoted", "checks": [{**check, "passed": True}]}
    )
    description = registry.client.get_model_version(registry.model_name, version).description
    assert description.startswith("# the card")
    assert description.count(card.GATE_HEADING) == 1
    assert "**promoted to `champion`**: promoted" in description
    assert "| beat_baseline | yes | 0.79 vs 0.78 | [-0.0100, 0.0300] |" in description


KILLED = """
import os, signal, sys
from titanic_mlops.adapters.mlflow import record
from titanic_mlops.adapters.mlflow.registry import Registry
registry = Registry(sys.argv[1], sys.argv[2], sys.argv[3])
with record.training_run(registry, "train-pipeline", {}) as run_id:
    registry.client.create_model_version(registry.model_name, f"runs:/{run_id}/model", run_id)
    print(run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_run_killed_mid_registration_is_marked_failed_and_its_version_removed(
    registry: Registry, recorded: dict[str, Any]
) -> None:
    client = registry.client
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, registry.tracking_uri, registry.artifact_root, registry.model_name],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    orphan = killed.stdout.strip()
    assert client.get_run(orphan).info.status == "RUNNING"
    assert client.search_model_versions(f"run_id = '{orphan}'")
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        experiment = client.get_experiment_by_name(registry.model_name).experiment_id
        live = client.create_run(
            experiment,
            tags={
                record.OWNER_HOST: record.owner_tags()[record.OWNER_HOST],
                record.OWNER_PID: str(alive.pid),
            },
        )
        assert record.reconcile_orphans(registry) == [orphan]
        assert client.get_run(live.info.run_id).info.status == "RUNNING"
    finally:
        alive.communicate(b"")
    assert client.get_run(orphan).info.status == "FAILED"
    assert client.search_model_versions(f"run_id = '{orphan}'") == []
    assert client.get_run(recorded["run_id"]).info.status == "FINISHED"
    assert record.reconcile_orphans(registry) == [live.info.run_id]  # its process has now ended
