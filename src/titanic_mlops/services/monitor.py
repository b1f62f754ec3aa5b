"""One monitoring cycle over the prediction log since the last one (`titanic-mlops monitor`).

window (after the cursor the monitoring state keeps) vs the training reference -> Evidently
reports (a workspace for the UI, and HTML) -> the policy -> one record in the monitoring state,
which the API exports as gauges. The monitoring flow runs these steps; starting a retraining is
the flow's business, not this module's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters.evidently import reports as evidently_reports
from titanic_mlops.adapters.evidently import workspace as evidently_workspace
from titanic_mlops.config.layout import WorkspaceLayout
from titanic_mlops.domain import monitoring_data, monitoring_policy
from titanic_mlops.domain.monitoring_policy import PolicyState, Verdict, WindowStats
from titanic_mlops.domain.params import MonitorParams
from titanic_mlops.domain.records import CycleResult, MonitoringEvent
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import experiment, rai_monitor
from titanic_mlops.services.deployment import Deployment, opened_log, opened_monitoring
from titanic_mlops.stores import history

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """The predictions after the cursor, and those of them with ground truth."""

    predictions: pd.DataFrame
    labelled: pd.DataFrame


def read_window(deployment: Deployment, after_id: int) -> Window:
    with opened_log(deployment) as log:
        return Window(log.window(after_id=after_id), log.labelled(after_id=after_id))


def reference(deployment: Deployment, workspace: WorkspaceLayout) -> tuple[pd.DataFrame, str]:
    """The training table's model inputs, scored by the champion (cached per version and data)."""
    registry = deployment.registry()
    champion = registry.require(CHAMPION)
    digest = atomic.file_md5(workspace.validated)[:12]
    cache = deployment.state.reference_cache / f"v{champion.version}-{digest}.parquet"
    if cache.exists():
        return pd.read_parquet(cache), champion.version
    frame = monitoring_data.reference_frame(
        pd.read_parquet(workspace.validated), pd.read_parquet(workspace.passengers)
    )
    model = registry.load_sklearn(champion)
    probability = model.predict_proba(frame.drop(columns=monitoring_data.LABEL))[:, 1]
    scored = monitoring_data.with_probability(frame, probability)
    atomic.write_parquet(cache, scored)
    return scored, champion.version


@dataclass(frozen=True)
class Cycle:
    """A recorded cycle and the ids of the Evidently snapshots it added (none when not judged)."""

    result: CycleResult
    snapshot_ids: dict[str, str]


def run_cycle(deployment: Deployment, workspace: Path, params: MonitorParams) -> CycleResult:
    """One cycle, recorded in the monitoring state; a retrain verdict also lands in the history."""
    return run_recorded_cycle(deployment, workspace, params).result


def run_recorded_cycle(deployment: Deployment, workspace: Path, params: MonitorParams) -> Cycle:
    """`run_cycle`, also naming its snapshots; they are written only after the record is won."""
    report: evidently_reports.DriftResult | None = None
    with opened_monitoring(deployment) as store:
        before = store.policy()
        window = read_window(deployment, before.cursor)
        now = time.time()
        if len(window.predictions) < params.min_window_rows:
            result, verdict = _wait(deployment, len(window.predictions), store.latest(), before, params, now)
        else:
            result, verdict, report = _judge(
                deployment, WorkspaceLayout(workspace), window, before, params, now
            )
        store.record(result, verdict.state, before)  # an overlapping cycle is refused here
    ids = {} if report is None else _save_snapshots(deployment, report, result, params)
    if verdict.action == "retrain":
        event = MonitoringEvent(
            reason=verdict.reason,
            drift_share=result.drift_share,
            live_accuracy=result.live_accuracy,
            window_ids=result.window_ids,
        )
        history.append(deployment.history_path, event)
    logger.info("monitor: %s (%s)", result.action, result.reason)
    return Cycle(result, ids)


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")


def _save_snapshots(
    deployment: Deployment, report: evidently_reports.DriftResult, result: CycleResult, params: MonitorParams
) -> dict[str, str]:
    """The cycle's Evidently snapshots, labelled with the model version, window and action."""
    ids = result.window_ids or []
    labels = {
        "model_version": str(result.reference_version),
        "window_ids": "-".join(str(i) for i in ids),
        "action": result.action,
    }
    state = deployment.state
    return evidently_reports.save(
        report, state.evidently, deployment.model_name, state.reports, _stamp(result.time), labels, params
    )


def _wait(
    deployment: Deployment,
    rows: int,
    previous: CycleResult | None,
    before: PolicyState,
    params: MonitorParams,
    now: float,
) -> tuple[CycleResult, Verdict]:
    """A window too small to judge: the gauges keep the last judged window's values."""
    verdict = monitoring_policy.decide(WindowStats(rows, 0.0), before, params, now)
    result = CycleResult(
        time=now,
        model_name=deployment.model_name,
        window_rows=rows,
        drift_detected=previous.drift_detected if previous else False,
        drift_share=previous.drift_share if previous else 0.0,
        drifted_columns=previous.drifted_columns if previous else 0,
        live_accuracy=previous.live_accuracy if previous else None,
        action=verdict.action,
        reason=verdict.reason,
    )
    return result, verdict


def _judge(
    deployment: Deployment,
    workspace: WorkspaceLayout,
    window: Window,
    before: PolicyState,
    params: MonitorParams,
    now: float,
) -> tuple[CycleResult, Verdict, evidently_reports.DriftResult]:
    """Reports and the policy over one window; the verdict's state moves the cursor past it."""
    predictions = window.predictions
    last_id = int(predictions["id"].max())
    labelled = window.labelled[window.labelled["id"] <= last_id]
    ref, version = reference(deployment, workspace)
    current = monitoring_data.current_frame(predictions)
    quality = monitoring_data.labelled_frame(labelled) if len(labelled) else None
    report = evidently_reports.analyse(ref, current, params, quality)
    stats = WindowStats(len(predictions), report.share, report.labelled_rows, report.accuracy)
    verdict = monitoring_policy.decide(stats, before, params, now, experiment.testing(deployment.state.root))
    paths = evidently_workspace.report_paths(deployment.state.reports, _stamp(now), list(report.snapshots))
    result = CycleResult(
        time=now,
        model_name=deployment.model_name,
        window_rows=len(predictions),
        drift_detected=verdict.drift_detected,
        drift_share=round(report.share, 4),
        drifted_columns=len(report.drifted_columns),
        drifted=report.drifted_columns,
        live_accuracy=None if report.accuracy is None else round(report.accuracy, 4),
        labelled_rows=report.labelled_rows,
        prediction_drift=report.prediction_drifted,
        quality_breach=verdict.quality_breach,
        reference_version=version,
        window_ids=[int(predictions["id"].min()), last_id],
        reports=paths,
        action=verdict.action,
        reason=verdict.reason,
        **rai_monitor.measures(deployment, predictions, labelled, params.min_labelled_rows),  # hook r14
    )
    return result, replace(verdict, state=replace(verdict.state, cursor=last_id)), report
