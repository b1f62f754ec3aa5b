"""The retraining flow (Prefect 3): labelled feedback -> a new batch -> `dvc repro` -> the gate.

A thin shell over `titanic_mlops.feedback`: it gathers the labelled rows logged since the last
retraining, checks them (labels, the Great Expectations contract on the would-be training
table, a minimum count), keeps a deterministic part apart as the gate's `recent` set, writes the
rest as a new immutable batch `data/feedback/<timestamp>-<rows>.csv`, and runs the pipeline
that dvc.yaml defines (the only DAG) in `workspace`, then pushes the data to the DVC remote.
Bad feedback stops here, before training, with a `retraining_refused` event in the history.
The cursor (the last prediction id consumed) lives in the monitoring state, so it follows the
profile: a file under the state directory, or PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task

from titanic_mlops import atomic, feedback, history, ingest, monitoring_state, validation
from titanic_mlops.params import IngestParams, Params
from titanic_mlops.prediction_log import open_log


@dataclass(frozen=True)
class Outcome:
    promoted: bool
    reason: str
    new_version: str | None = None
    batch: str | None = None
    data_version: str | None = None


@task
def gather(log_url: str, after_id: int) -> pd.DataFrame:
    log = open_log(log_url)
    try:
        return log.labelled(after_id=after_id)
    finally:
        log.close()


@task
def contract_problems(workspace: Path, batch: pd.DataFrame, params: Params) -> list[str]:
    """The data contract on the batch alone and on the training table it would join."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "batch.csv"
        batch.to_csv(staged, index=False)
        typed = ingest.read_raw_csv(staged, labelled=True)  # exactly what `ingest` will read
    current = ingest.load_training_table(
        workspace / "data/external/titanic/train.csv", workspace / "data/feedback"
    )
    table = pd.concat([current, typed.assign(source="feedback")], ignore_index=True)
    own = validation.validate_frame(
        typed, params.validate_, IngestParams(min_rows=1, max_rows=params.ingest.max_rows), labelled=True
    )
    combined = validation.validate_frame(table, params.validate_, params.ingest, labelled=True)
    return list(dict.fromkeys(own.failures + combined.failures))


@task
def run_dvc(workspace: Path, args: list[str], log_path: Path, trigger: str) -> None:
    # dvc and the stages' `titanic-mlops` come from this interpreter's environment.
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "TITANIC_MLOPS_TRIGGER": trigger, "PATH": f"{scripts}:{os.environ.get('PATH', '')}"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as out:
        out.write(f"$ dvc {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [f"{scripts}/dvc", *args], cwd=workspace, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"dvc {' '.join(args)} failed in {workspace} (exit {done.returncode}); see {log_path}"
        )


@task
def stage_inputs(feedback_dir: Path, parts: feedback.FeedbackSplit) -> Path:
    """The gate's recent set (replaced) and a new batch file (never an edit of an old one)."""
    atomic.write_parquet(feedback_dir / feedback.RECENT_FILE, parts.recent)
    batch_path = feedback.batch_path(feedback_dir, datetime.now(UTC), len(parts.batch))
    with batch_path.open("x") as handle:
        parts.batch.to_csv(handle, index=False)
    return batch_path


def _refuse(
    problems: list[str],
    parts: feedback.FeedbackSplit | None,
    rows: int,
    store: monitoring_state.MonitoringStore,
    history_path: Path,
    trigger: str,
) -> dict[str, Any]:
    """Record why; too few rows wait for more feedback, rows breaking the contract are skipped."""
    skip = parts is not None and any("fewer than" not in p for p in problems)
    if skip and parts is not None:
        store.save_retraining_cursor(parts.last_prediction_id)
    reason = "refused before training: " + "; ".join(problems)
    skipped = [parts.first_prediction_id, parts.last_prediction_id] if skip and parts else None
    event = {"event": "retraining_refused", "trigger": trigger, "rows": rows, "promoted": False}
    history.append(history_path, {**event, "reason": reason, "skipped_prediction_ids": skipped})
    get_run_logger().warning(reason)
    return asdict(Outcome(promoted=False, reason=reason))


@flow(name="retrain", log_prints=True)
def retrain_flow(
    workspace: Path,
    state: Path,
    params: Params,
    log_url: str,
    history_path: Path,
    monitoring_url: str,
    model_name: str,
    trigger: str = "drift",
) -> dict[str, Any]:
    """One retraining attempt; returns new_version, promoted, reason (and the batch written)."""
    monitor = params.monitor
    if monitor is None:
        raise ValueError("params.yaml has no monitor: section")
    store = monitoring_state.open_store(monitoring_url, model_name)
    try:
        labelled = gather(log_url, store.retraining_cursor())
        problems = feedback.label_problems(labelled, monitor.min_feedback_rows)
        parts = feedback.split(labelled, monitor.feedback_holdout_fraction) if len(labelled) else None
        if parts is not None and not problems:
            problems = contract_problems(workspace, parts.batch, params)
        if problems:
            return _refuse(problems, parts, len(labelled), store, history_path, trigger)
        assert parts is not None
        outcome = _train_on(workspace, state, parts, history_path, trigger)
        if outcome.new_version is not None:
            store.save_retraining_cursor(parts.last_prediction_id)
    finally:
        store.close()
    if outcome.new_version is not None:
        history.append(
            history_path,
            {
                "event": "retraining",
                "trigger": trigger,
                "rows": len(parts.batch),
                "recent_rows": len(parts.recent),
                "prediction_ids": [parts.first_prediction_id, parts.last_prediction_id],
                **asdict(outcome),
            },
        )
        get_run_logger().info("retraining: version %s %s", outcome.new_version, outcome.reason)
    return asdict(outcome)


def _train_on(
    workspace: Path, state: Path, parts: feedback.FeedbackSplit, history_path: Path, trigger: str
) -> Outcome:
    """A new batch, `dvc repro` and `dvc push`; a failed pipeline moves the batch aside."""
    feedback_dir = workspace / "data" / "feedback"
    batch_path = stage_inputs(feedback_dir, parts)
    get_run_logger().info(
        "batch %s: %d rows; %d held back as recent", batch_path.name, len(parts.batch), len(parts.recent)
    )
    dvc_log = state / "logs" / f"retraining-{int(time.time())}.log"
    try:
        run_dvc(workspace, ["repro"], dvc_log, trigger)
    except RuntimeError as exc:
        rejected = feedback_dir / "rejected"
        rejected.mkdir(exist_ok=True)
        batch_path.rename(rejected / batch_path.name)  # ingest reads only data/feedback/*.csv
        reason = f"pipeline failed, batch moved to data/feedback/rejected: {exc}"
        event = {"event": "retraining_failed", "trigger": trigger, "promoted": False}
        history.append(history_path, {**event, "reason": reason, "batch": batch_path.name})
        return Outcome(promoted=False, reason=reason, batch=batch_path.name)
    run_dvc(workspace, ["push", "-q"], dvc_log, trigger)
    decision = json.loads((workspace / "reports" / "promotion.json").read_text())
    return Outcome(
        promoted=bool(decision["promoted"]),
        reason=str(decision["reason"]),
        new_version=str(decision["challenger_version"]),
        batch=batch_path.name,
        data_version=_data_version(workspace),
    )


def _data_version(workspace: Path) -> str | None:
    """The DVC hash of the validated training table, from dvc.lock."""
    import yaml

    lock = workspace / "dvc.lock"
    if not lock.exists():
        return None
    stages = yaml.safe_load(lock.read_text()).get("stages", {})
    for out in stages.get("validate", {}).get("outs", []):
        if out.get("path") == "data/validated/train.parquet":
            return str(out.get("md5"))
    return None
