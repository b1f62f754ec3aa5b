"""The training record in MLflow: a parent run per training, a child run per candidate, inputs, card.

One training is one parent run named `train-v<version>-<trigger>` once registered; each candidate
configuration the search scored is a child run (params, CV mean and spread), so the UI's compare
view lines them up. The training and holdout sets are the run's inputs (`mlflow.log_input`) with
their digests; the version's description is its model card. The experiment is tagged for the
classic machine-learning view. Every run carries its owner's host and pid, so the next training
can tell an interrupted run (process gone) from a live one and mark it FAILED.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import pandas as pd

from titanic_mlops.adapters.mlflow import card
from titanic_mlops.adapters.mlflow.registry import Registry

# MLflow 3's experiment type: "custom_model_development" is the classic ML view (runs, models,
# compare), "genai_development" the traces view. The 3.x UI also reads `?workflowType=`.
EXPERIMENT_KIND = "mlflow.experimentKind"
CLASSIC_ML = "custom_model_development"
OWNER_HOST = "titanic.owner_host"
OWNER_PID = "titanic.owner_pid"
ORPHANED = "titanic.orphaned"


@dataclass(frozen=True)
class InputSet:
    """One data set a training read: its rows, where they came from, and in which role."""

    name: str
    frame: pd.DataFrame
    source: str
    context: str
    targets: str | None = None


def digest(frame: pd.DataFrame) -> str:
    """The md5 of every value and index of `frame`: equal frames give equal digests."""
    hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    return hashlib.md5(hashed.tobytes(), usedforsecurity=False).hexdigest()


def prepare_experiment(registry: Registry) -> str:
    """The model's experiment, opening in MLflow's classic machine-learning view."""
    experiment = registry.experiment_id(registry.model_name)
    registry.client.set_experiment_tag(experiment, EXPERIMENT_KIND, CLASSIC_ML)
    return experiment


def owner_tags() -> dict[str, str]:
    return {OWNER_HOST: socket.gethostname(), OWNER_PID: str(os.getpid())}


@contextmanager
def training_run(registry: Registry, run_name: str, tags: Mapping[str, str]) -> Iterator[str]:
    """The parent run, active for the block; an exception ends it FAILED, a kill leaves it RUNNING.

    The run is created explicitly, so an `MLFLOW_RUN_ID` set by `mlflow run` (a run in whatever
    store that CLI used) is recorded as a tag instead of being resumed.
    """
    import mlflow

    mlflow.set_tracking_uri(registry.tracking_uri)
    experiment = prepare_experiment(registry)
    project_run = os.environ.get("MLFLOW_RUN_ID")
    extra = {"mlflow_project_run_id": project_run} if project_run else {}
    created = registry.client.create_run(
        experiment, run_name=run_name, tags={**tags, **owner_tags(), **extra}
    )
    with mlflow.start_run(run_id=created.info.run_id):
        yield created.info.run_id


def log_candidates(registry: Registry, rows: Sequence[Any], chosen: Mapping[str, Any]) -> list[str]:
    """One child run of the active run per candidate row: every field as a param or a metric."""
    import mlflow

    experiment = registry.experiment_id(registry.model_name)
    ids = []
    for row in rows:
        fields = _fields(row)
        params, metrics = _split(fields)
        selected = fields.get("family") == chosen.get("family") and fields.get("params") == chosen.get(
            "params"
        )
        with mlflow.start_run(
            experiment_id=experiment,
            run_name=_child_name(fields),
            nested=True,
            tags={**owner_tags(), "candidate": "true", "selected": str(selected).lower()},
        ) as run:
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            ids.append(run.info.run_id)
    return ids


def log_inputs(sets: Sequence[InputSet]) -> None:
    """Each set as an input of the active run, with its digest and its role (context)."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    for item in sets:
        dataset = from_pandas(
            item.frame, source=item.source, targets=item.targets, name=item.name, digest=digest(item.frame)
        )
        mlflow.log_input(dataset, context=item.context)


def describe(registry: Registry, run_id: str, version: str, run_name: str, model_card: str) -> None:
    """Name the run after its version, and make the card the version's description."""
    client = registry.client
    client.update_run(run_id, name=run_name)
    client.update_model_version(registry.model_name, version, description=model_card)
    client.update_registered_model(registry.model_name, description=card.MODEL_DESCRIPTION)


def append_gate(registry: Registry, version: str, decision: Mapping[str, Any]) -> None:
    """The gate's decision and checks as the last section of the version's model card."""
    client = registry.client
    current = client.get_model_version(registry.model_name, version).description or ""
    client.update_model_version(registry.model_name, version, description=card.with_gate(current, decision))


def reconcile_orphans(registry: Registry) -> list[str]:
    """Mark FAILED every run a dead process of this host left RUNNING; drop its unaliased versions.

    A run ends FINISHED only after its version is fully registered (artifacts, hashes), so a
    version of an orphaned run is an interrupted registration: it never reached the gate, holds
    no alias, and is deleted. Runs of live processes, or of other hosts, are left alone.
    """
    client = registry.client
    found = client.get_experiment_by_name(registry.model_name)
    if found is None:
        return []
    running = client.search_runs([found.experiment_id], filter_string="attributes.status = 'RUNNING'")
    orphans = [run for run in running if _abandoned(run.data.tags)]
    for run in orphans:
        run_id = run.info.run_id
        client.set_tag(run_id, ORPHANED, "its process ended before the run did; marked FAILED")
        client.set_terminated(run_id, "FAILED")
        for version in client.search_model_versions(f"run_id = '{run_id}'"):
            if not version.aliases:
                client.delete_model_version(registry.model_name, version.version)
    return [run.info.run_id for run in orphans]


def _abandoned(tags: Mapping[str, str]) -> bool:
    if OWNER_PID not in tags or tags.get(OWNER_HOST) != socket.gethostname():
        return False
    pid = int(tags[OWNER_PID])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _fields(row: Any) -> dict[str, Any]:
    if is_dataclass(row) and not isinstance(row, type):
        return asdict(row)
    if hasattr(row, "model_dump"):
        return dict(row.model_dump(mode="json"))
    return dict(row)


def _split(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """Numbers are metrics; the configuration (nested `params`) and labels are params."""
    params: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    for key, value in fields.items():
        if key == "params" and isinstance(value, Mapping):
            params.update({f"model.{name}": item for name, item in value.items()})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            metrics[key] = float(value)
        else:
            params[key] = value
    return params, metrics


def _child_name(fields: Mapping[str, Any]) -> str:
    config = fields.get("params") or {}
    settings = ", ".join(f"{key}={value}" for key, value in sorted(config.items()))
    return f"{fields.get('family', 'candidate')} {settings}".strip()[:250]
