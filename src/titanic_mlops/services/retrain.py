"""One retraining: labelled feedback -> a new batch -> `dvc repro` -> the gate (`titanic-mlops retrain`).

It gathers the labelled rows logged since the last retraining, checks them (labels, the Great
Expectations contract on the would-be training table, a minimum count), keeps a deterministic
part apart as the gate's `recent` set, writes the rest as a new immutable batch
`data/feedback/<timestamp>-<rows>.csv`, and runs the pipeline dvc.yaml defines (the only DAG)
in the workspace, then pushes the data to the DVC remote. Bad feedback stops here, before
training, with a `retraining_refused` event. The cursor (the last prediction id consumed) lives
in the monitoring state, so it follows the profile.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from titanic_mlops import atomic
from titanic_mlops.adapters import expectations
from titanic_mlops.config.layout import VALIDATED, WorkspaceLayout
from titanic_mlops.domain import feedback
from titanic_mlops.domain.params import IngestParams, Params
from titanic_mlops.domain.records import (
    FlowRunOrigin,
    PromotionEvent,
    RetrainingEvent,
    RetrainingFailedEvent,
    RetrainingOutcome,
    RetrainingRefusedEvent,
)
from titanic_mlops.services.deployment import Deployment, opened_log, opened_monitoring
from titanic_mlops.services.ingest import load_training_table, read_raw_csv
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import MonitoringStore

logger = logging.getLogger(__name__)


class PipelineFailed(RuntimeError):
    """`dvc` exited non-zero; the log file says why."""


def gather(deployment: Deployment, after_id: int) -> pd.DataFrame:
    with opened_log(deployment) as log:
        return log.labelled(after_id=after_id)


def contract_problems(workspace: WorkspaceLayout, batch: pd.DataFrame, params: Params) -> list[str]:
    """The data contract on the batch alone and on the training table it would join."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "batch.csv"
        batch.to_csv(staged, index=False)
        typed = read_raw_csv(staged, labelled=True)  # exactly what `ingest` will read
    current = load_training_table(workspace.raw_train, workspace.feedback_dir)
    table = pd.concat([current, typed.assign(source="feedback")], ignore_index=True)
    limits = IngestParams(min_rows=1, max_rows=params.ingest.max_rows)
    own = expectations.validate_frame(typed, params.validate_, limits, labelled=True)
    combined = expectations.validate_frame(table, params.validate_, params.ingest, labelled=True)
    return list(dict.fromkeys(own.failures + combined.failures))


def run_dvc(workspace: Path, args: list[str], log_path: Path, trigger: str) -> None:
    """`dvc <args>` in the workspace, its output appended to `log_path`."""
    scripts = str(Path(sys.executable).parent)  # dvc and the stages' `titanic-mlops` come from here
    env = {**os.environ, "TITANIC_MLOPS_TRIGGER": trigger, "PATH": f"{scripts}:{os.environ.get('PATH', '')}"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as out:
        out.write(f"$ dvc {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [f"{scripts}/dvc", *args], cwd=workspace, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise PipelineFailed(
            f"dvc {' '.join(args)} failed in {workspace} (exit {done.returncode}); see {log_path}"
        )


def stage_inputs(workspace: WorkspaceLayout, parts: feedback.FeedbackSplit) -> Path:
    """The gate's recent set (replaced) and a new batch file (never an edit of an old one)."""
    atomic.write_parquet(workspace.recent, parts.recent)
    batch_path = feedback.batch_path(workspace.feedback_dir, datetime.now(UTC), len(parts.batch))
    with batch_path.open("x") as handle:
        parts.batch.to_csv(handle, index=False)
    return batch_path


def retrain(
    deployment: Deployment,
    workspace: Path,
    params: Params,
    trigger: str,
    origin: FlowRunOrigin | None = None,
) -> RetrainingOutcome:
    """One retraining attempt; the outcome names the new version, if any, and the gate's decision.

    `origin` (the triggering event and flow runs, when the loop's deployments started it) is
    recorded on whichever event the attempt ends with.
    """
    monitor = params.monitor
    if monitor is None:
        raise ValueError("params.yaml has no monitor: section")
    layout = WorkspaceLayout(workspace)
    set_aside_interrupted(deployment, layout)
    with opened_monitoring(deployment) as store:
        labelled = gather(deployment, store.retraining_cursor())
        problems = feedback.label_problems(labelled, monitor.min_feedback_rows)
        parts = feedback.split(labelled, monitor.feedback_holdout_fraction) if len(labelled) else None
        if parts is not None and not problems:
            problems = contract_problems(layout, parts.batch, params)
        if problems or parts is None:
            return _refuse(deployment, problems, parts, len(labelled), store, trigger, origin)
        outcome = _train_on(deployment, layout, parts, trigger, origin)
        if outcome.new_version is not None:
            store.save_retraining_cursor(parts.last_prediction_id)
    if outcome.new_version is not None:
        event = RetrainingEvent(
            trigger=trigger,
            rows=len(parts.batch),
            recent_rows=len(parts.recent),
            prediction_ids=[parts.first_prediction_id, parts.last_prediction_id],
            origin=origin,
            **outcome.model_dump(),
        )
        history.append(deployment.history_path, event)
        logger.info("retraining: version %s %s", outcome.new_version, outcome.reason)
    return outcome


def _refuse(
    deployment: Deployment,
    problems: list[str],
    parts: feedback.FeedbackSplit | None,
    rows: int,
    store: MonitoringStore,
    trigger: str,
    origin: FlowRunOrigin | None = None,
) -> RetrainingOutcome:
    """Record why; too few rows wait for more feedback, rows breaking the contract are skipped."""
    skip = parts is not None and any("fewer than" not in p for p in problems)
    if skip and parts is not None:
        store.save_retraining_cursor(parts.last_prediction_id)
    reason = "refused before training: " + "; ".join(problems)
    skipped = [parts.first_prediction_id, parts.last_prediction_id] if skip and parts else None
    event = RetrainingRefusedEvent(
        trigger=trigger, rows=rows, reason=reason, skipped_prediction_ids=skipped, origin=origin
    )
    history.append(deployment.history_path, event)
    logger.warning(reason)
    return RetrainingOutcome(promoted=False, reason=reason)


def _train_on(
    deployment: Deployment,
    workspace: WorkspaceLayout,
    parts: feedback.FeedbackSplit,
    trigger: str,
    origin: FlowRunOrigin | None = None,
) -> RetrainingOutcome:
    """A new batch, `dvc repro` and `dvc push`; a failed pipeline moves the batch aside."""
    batch_path = stage_inputs(workspace, parts)
    logger.info(
        "batch %s: %d rows; %d held back as recent", batch_path.name, len(parts.batch), len(parts.recent)
    )
    dvc_log = deployment.state.logs / f"retraining-{int(time.time())}.log"
    marker = in_flight_marker(deployment)
    atomic.write_text(marker, str(batch_path))
    try:
        run_dvc(workspace.root, ["repro"], dvc_log, trigger)
    except PipelineFailed as exc:
        marker.unlink(missing_ok=True)
        rejected = workspace.feedback_dir / "rejected"
        rejected.mkdir(exist_ok=True)
        batch_path.rename(rejected / batch_path.name)  # ingest reads only data/feedback/*.csv
        reason = f"pipeline failed, batch moved to data/feedback/rejected: {exc}"
        history.append(
            deployment.history_path,
            RetrainingFailedEvent(trigger=trigger, reason=reason, batch=batch_path.name, origin=origin),
        )
        return RetrainingOutcome(promoted=False, reason=reason, batch=batch_path.name)
    marker.unlink(missing_ok=True)
    run_dvc(workspace.root, ["push", "-q"], dvc_log, trigger)
    decision = PromotionEvent.model_validate_json(workspace.promotion.read_text())
    return RetrainingOutcome(
        promoted=decision.promoted,
        reason=decision.reason,
        new_version=decision.challenger_version,
        batch=batch_path.name,
        data_version=data_version(workspace),
    )


def in_flight_marker(deployment: Deployment) -> Path:
    """Names the batch of a retraining between writing it and the end of its `dvc repro`."""
    return deployment.state.root / "retraining-in-flight"


def set_aside_interrupted(deployment: Deployment, workspace: WorkspaceLayout) -> Path | None:
    """A batch left by a retraining killed mid-`dvc repro` moves to data/feedback/rejected/.

    Its rows were never consumed (the cursor moves only after the pipeline), so the next
    retraining gathers them again into a fresh batch; without this they would train twice.
    """
    marker = in_flight_marker(deployment)
    if not marker.exists():
        return None
    batch = Path(marker.read_text().strip())
    target = workspace.feedback_dir / "rejected" / f"interrupted-{batch.name}"
    if batch.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        batch.rename(target)
        logger.warning("batch %s of an interrupted retraining moved to %s", batch.name, target)
    marker.unlink()
    return target if target.exists() else None


def data_version(workspace: WorkspaceLayout) -> str | None:
    """The DVC hash of the validated training table, from dvc.lock."""
    if not workspace.dvc_lock.exists():
        return None
    stages = yaml.safe_load(workspace.dvc_lock.read_text()).get("stages", {})
    for out in stages.get("validate", {}).get("outs", []):
        if out.get("path") == str(VALIDATED):
            return str(out.get("md5"))
    return None
