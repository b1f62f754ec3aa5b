"""The monitoring flow (Prefect 3): one cycle over the prediction log since the last cycle.

window (after the cursor the monitoring state keeps) vs the training reference -> Evidently
reports (workspace <state>/evidently, HTML <state>/reports) -> the policy -> one record in the
monitoring state (files in the embedded profile, PostgreSQL in production), which the API
exports as gauges. Retraining is not started here: the composition root (`titanic-mlops monitor`)
runs the retraining flow when the action says so.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task

from titanic_mlops import atomic, drift, history, monitoring_data, monitoring_policy, monitoring_state
from titanic_mlops.monitoring_policy import PolicyState, Verdict
from titanic_mlops.params import MonitorParams
from titanic_mlops.prediction_log import open_log
from titanic_mlops.registry import CHAMPION, Registry


@task
def read_window(log_url: str, after_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    log = open_log(log_url)
    try:
        return log.window(after_id=after_id), log.labelled(after_id=after_id)
    finally:
        log.close()


@task
def reference(workspace: Path, state: Path, registry: Registry) -> tuple[pd.DataFrame, str]:
    """The training table's model inputs, scored by the champion (cached per version and data)."""
    validated = workspace / "data" / "validated" / "train.parquet"
    champion = registry.require(CHAMPION)
    cache = (
        state / "monitoring" / "reference" / f"v{champion.version}-{atomic.file_md5(validated)[:12]}.parquet"
    )
    if cache.exists():
        return pd.read_parquet(cache), champion.version
    frame = monitoring_data.reference_frame(
        pd.read_parquet(validated), pd.read_parquet(workspace / "data" / "features" / "passengers.parquet")
    )
    model = registry.load_sklearn(champion)
    scored = monitoring_data.with_probability(
        frame, model.predict_proba(frame.drop(columns=drift.LABEL))[:, 1]
    )
    atomic.write_parquet(cache, scored)
    return scored, champion.version


@task
def analyse(ref: pd.DataFrame, current: pd.DataFrame, labelled: pd.DataFrame, params: MonitorParams) -> Any:
    return drift.analyse(
        ref, current, params, monitoring_data.labelled_frame(labelled) if len(labelled) else None
    )


@flow(name="monitor", log_prints=True)
def monitor_flow(
    workspace: Path,
    state: Path,
    params: MonitorParams,
    log_url: str,
    registry: Registry,
    history_path: Path,
    monitoring_url: str,
) -> dict[str, Any]:
    """One cycle; returns drift_detected, drift_share, drifted_columns, action, reason, ..."""
    store = monitoring_state.open_store(monitoring_url, registry.model_name)
    try:
        before = store.policy()
        window, labelled = read_window(log_url, before.cursor)
        now = time.time()
        result: dict[str, Any] = {"time": now, "window_rows": len(window), "model_name": registry.model_name}
        if len(window) < params.min_window_rows:
            verdict = _wait(result, store.latest() or {}, before, params, now)
        else:
            verdict = _judge(result, window, labelled, (workspace, state, registry), before, params, now)
        store.record(result, verdict.state, before)
    finally:
        store.close()
    if verdict.action == "retrain":
        history.append(
            history_path,
            {
                "event": "monitoring",
                "trigger": "drift",
                "action": "retrain",
                "reason": verdict.reason,
                "drift_share": result["drift_share"],
                "live_accuracy": result["live_accuracy"],
                "window_ids": result.get("window_ids"),
            },
        )
    get_run_logger().info("monitor: %s (%s)", result["action"], result["reason"])
    return result


def _wait(
    result: dict[str, Any], previous: dict[str, Any], before: PolicyState, params: MonitorParams, now: float
) -> Verdict:
    """A window too small to judge: the gauges keep the last judged window's values."""
    verdict = monitoring_policy.decide(
        monitoring_policy.WindowStats(int(result["window_rows"]), 0.0), before, params, now
    )
    result.update(drift_detected=False, drift_share=0.0, drifted_columns=0, live_accuracy=None)
    result.update(
        {k: previous[k] for k in ("drift_share", "drift_detected", "live_accuracy") if k in previous}
    )
    result.update(
        drifted_columns=previous.get("drifted_columns", 0), action=verdict.action, reason=verdict.reason
    )
    return verdict


def _judge(
    result: dict[str, Any],
    window: pd.DataFrame,
    labelled: pd.DataFrame,
    where: tuple[Path, Path, Registry],
    before: PolicyState,
    params: MonitorParams,
    now: float,
) -> Verdict:
    """Reports and the policy over one window; the verdict's state moves the cursor past it."""
    workspace, state, registry = where
    last_id = int(window["id"].max())
    labelled = labelled[labelled["id"] <= last_id]
    ref, version = reference(workspace, state, registry)
    report = analyse(ref, monitoring_data.current_frame(window), labelled, params)
    stats = monitoring_policy.WindowStats(len(window), report.share, report.labelled_rows, report.accuracy)
    verdict = monitoring_policy.decide(stats, before, params, now)
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    reports = drift.save(report, state / "evidently", registry.model_name, state / "reports", stamp)
    result.update(
        drift_detected=verdict.drift_detected,
        drift_share=round(report.share, 4),
        drifted_columns=len(report.drifted_columns),
        drifted=report.drifted_columns,
        live_accuracy=None if report.accuracy is None else round(report.accuracy, 4),
        labelled_rows=report.labelled_rows,
        prediction_drift=report.prediction_drifted,
        quality_breach=verdict.quality_breach,
        reference_version=version,
        window_ids=[int(window["id"].min()), last_id],
        reports=reports,
        action=verdict.action,
        reason=verdict.reason,
    )
    return replace(verdict, state=replace(verdict.state, cursor=last_id))
