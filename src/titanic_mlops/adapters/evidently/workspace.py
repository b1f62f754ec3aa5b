"""The Evidently workspace: where the reports' snapshots go, and the projects' dashboards.

Half of the Evidently adapter (`reports` builds the reports): each snapshot is written
as standalone HTML (renamed into place) and added to a local workspace, one project per model
plus one for the online experiment, each created with its dashboard, what `evidently ui` shows.
Unreadable snapshot files are moved aside, so the UI keeps listing the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from titanic_mlops import atomic
from titanic_mlops.domain import experiment_counts
from titanic_mlops.domain.params import MonitorParams

logger = logging.getLogger(__name__)
RETRAIN_TAG = "action=retrain"  # the tag a snapshot gets when its cycle decided to retrain
CHECKED_INDEX = ".checked-snapshots.json"  # the snapshot files `quarantine` found whole


def report_paths(html_dir: Path, stamp: str, names: list[str]) -> dict[str, str]:
    """Where `store` writes each snapshot's HTML: known before anything is written."""
    return {name: str(html_dir / f"{stamp}-{name}.html") for name in names}


def store(
    snapshots: dict[str, Any],
    workspace: Path,
    project: str,
    html_dir: Path,
    stamp: str,
    labels: dict[str, str],
    create: Callable[[Any], Any],
) -> dict[str, str]:
    """`save`'s steps for any snapshots: HTML renamed into place, then the workspace project."""
    html_dir.mkdir(parents=True, exist_ok=True)
    ids: dict[str, str] = {}
    try:
        ws = _workspace(workspace)
        found = list(ws.search_project(project))
        target = found[0] if found else create(ws)
    except Exception as exc:
        logger.warning("Evidently workspace %s unusable, snapshots not added: %s", workspace, exc)
        target = None
    paths = report_paths(html_dir, stamp, list(snapshots))
    for name, snapshot in snapshots.items():
        _label(snapshot, name, labels)
        _write_html(snapshot, Path(paths[name]))
        if target is not None:
            try:
                ids[name] = str(
                    ws.add_run(target.id, snapshot, include_data=False, name=f"{stamp} {name}").id
                )
            except Exception as exc:
                logger.warning("Evidently snapshot %s %s not added: %s", stamp, name, exc)
    return ids


def _label(snapshot: Any, name: str, labels: dict[str, str]) -> None:
    """Tags and metadata on a finished snapshot (Evidently sets them only at `Report.run`)."""
    snapshot._metadata = {**snapshot._metadata, **labels, "report": name}
    snapshot._tags = [*snapshot._tags, *(f"{k}={v}" for k, v in labels.items())]


def _write_html(snapshot: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    snapshot.save_html(str(tmp))
    tmp.replace(path)


def _workspace(workspace: Path) -> Any:
    """The file workspace, after moving any snapshot file that does not parse into quarantine."""
    workspace.mkdir(parents=True, exist_ok=True)
    quarantine(workspace)
    return _snapshot_workspace()(str(workspace))


def _snapshot_workspace() -> Any:
    """Evidently's local `Workspace`, opened without its dataset manager.

    `Workspace(path)` also builds a dataset manager whose project store parses every snapshot of
    the workspace as it opens: a cost that grows with each cycle kept (~1 s at 13 snapshots here;
    a 5-minute schedule keeps ~580 a day), for datasets this adapter never stores
    (`include_data=False`). Projects, dashboards and runs read and write only the file state
    (`LocalState`), which is all this one opens.
    """
    from evidently.ui.storage.local.base import LocalState
    from evidently.ui.workspace import Workspace

    class SnapshotWorkspace(Workspace):  # type: ignore[misc]
        def __init__(self, path: str) -> None:  # not super().__init__(): that opens the dataset store
            self.path = path
            self.state = LocalState(path)

    return SnapshotWorkspace


def quarantine(workspace: Path) -> list[Path]:
    """Move unreadable snapshot files aside (`<workspace>/quarantine/`); returns where they went.

    Only files not seen whole before are parsed: every cycle used to parse every snapshot kept
    (~40 ms each, so a cost that grew without bound). A file that parsed is remembered by size
    and modification time (`<workspace>/.checked-snapshots.json`), and parsed again only when
    either changes; a file cut short by a killed write has neither of its final values.
    """
    index = workspace / CHECKED_INDEX
    try:
        checked: dict[str, list[int]] = json.loads(index.read_text())
    except (OSError, ValueError):  # none yet, or unreadable: parse everything once
        checked = {}
    moved: list[Path] = []
    seen: dict[str, list[int]] = {}
    for path in sorted(workspace.glob("*/snapshots/*.json")):
        key = str(path.relative_to(workspace))
        try:
            stat = path.stat()
            mark = [stat.st_size, stat.st_mtime_ns]
            if checked.get(key) != mark:
                json.loads(path.read_text())
            seen[key] = mark
        except (OSError, ValueError) as exc:
            target = workspace / "quarantine" / f"{path.parent.parent.name}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
            logger.warning("corrupt Evidently snapshot %s quarantined to %s: %s", path, target, exc)
            moved.append(target)
    if seen != checked:
        atomic.write_json(index, seen)
    return moved


def monitoring_project(ws: Any, name: str, params: MonitorParams | None) -> Any:
    """A project per model: the two series the policy watches, each with its threshold named and
    a second series of only the cycles that decided to retrain (tag `action=retrain`): the marker."""
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel, text_panel

    target = ws.create_project(name, description=f"monitoring of model {name}")
    labels = {"value_type": "share"}
    share = PanelMetric(legend="share", metric="DriftedColumnsCount", metric_labels=labels)
    share_marker = PanelMetric(
        legend="retraining", metric="DriftedColumnsCount", metric_labels=labels, tags=[RETRAIN_TAG]
    )
    accuracy = PanelMetric(legend="accuracy", metric="Accuracy")
    accuracy_marker = PanelMetric(legend="retraining", metric="Accuracy", tags=[RETRAIN_TAG])
    drift_limit = f" (drift at >= {params.drift_share_threshold})" if params else ""
    floor = f" (floor {params.quality_floor})" if params else ""
    if params is not None:
        text = (
            f"Retrain when {params.consecutive_windows} windows in a row have a drifted-column share >= "
            f"{params.drift_share_threshold} or live accuracy < {params.quality_floor} (at least "
            f"{params.min_labelled_rows} labelled rows); a column drifts at p < "
            f"{params.column_drift_p_value}. "
            "The 'retraining' series marks the cycles that decided to retrain."
        )
        target.dashboard.add_panel(text_panel("Policy thresholds", text), tab="Monitoring")
    target.dashboard.add_panel(
        line_plot_panel(f"Share of drifted columns{drift_limit}", [share, share_marker], size="half"),
        tab="Monitoring",
    )
    target.dashboard.add_panel(
        line_plot_panel(f"Live accuracy{floor}", [accuracy, accuracy_marker], size="half"), tab="Monitoring"
    )
    return target


def arms_project(ws: Any, name: str) -> Any:
    """The experiment's project: accuracy and ROC AUC of both arms, one point per look."""
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel, text_panel

    target = ws.create_project(name, description="online experiment: champion and challenger in shadow")
    text = (
        "Each point is one monitoring cycle's look at the running experiment: both arms scored on the "
        "same labelled passengers since it started (shadow mode). Tags name the challenger version "
        "and the look's decision; status --json has the test's statistics."
    )
    target.dashboard.add_panel(text_panel("Champion vs challenger", text), tab="Experiment")
    for metric, title in (("Accuracy", "Accuracy by arm"), ("RocAuc", "ROC AUC by arm")):
        series = [
            PanelMetric(legend=arm, metric=metric, metric_labels={"classification_name": arm})
            for arm in experiment_counts.ARMS
        ]
        target.dashboard.add_panel(line_plot_panel(title, series, size="half"), tab="Experiment")
    return target
