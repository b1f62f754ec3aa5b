"""The Evidently adapter on real feature frames: a shifted column drifts, a resample does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.samples import monitor_params
from tests.support.workspace import ROOT
from titanic_mlops.adapters.evidently import reports as drift
from titanic_mlops.adapters.evidently import workspace as evidently_workspace

pytestmark = pytest.mark.slow
PARAMS = monitor_params(cooldown_minutes=0)


def test_a_resample_does_not_drift_and_a_shift_does(reference: pd.DataFrame, tmp_path: Path) -> None:
    same = reference.sample(150, random_state=1, replace=True)
    shifted = same.assign(age=same["age"] + 25, fare=same["fare"] * 4, pclass=1.0)
    calm = drift.analyse(reference, same, PARAMS)
    moved = drift.analyse(reference, shifted, PARAMS, full=False)
    assert calm.share < PARAMS.drift_share_threshold and calm.accuracy is None
    assert {"age", "fare", "pclass"} <= set(moved.drifted_columns)
    labels = {"model_version": "3", "window_ids": "1-150", "action": "none"}
    ids = drift.save(
        calm, tmp_path / "evidently", "titanic-survival", tmp_path / "reports", "t1", labels, PARAMS
    )
    html = evidently_workspace.report_paths(tmp_path / "reports", "t1", ["drift"])["drift"]
    assert Path(html).stat().st_size > 10_000
    assert not list((tmp_path / "reports").glob(".*.tmp")), "the HTML is renamed into place"
    (stored,) = (tmp_path / "evidently").glob(f"*/snapshots/{ids['drift']}.json")
    snapshot = json.loads(stored.read_text())
    assert {"model_version=3", "window_ids=1-150", "action=none"} <= set(snapshot["tags"])
    assert snapshot["metadata"]["model_version"] == "3"
    from evidently.ui.workspace import Workspace

    (project,) = Workspace(str(tmp_path / "evidently")).search_project("titanic-survival")
    panels = project.dashboard.model().panels
    titles = [p.title for p in panels]
    assert titles[0] == "Policy thresholds"
    assert f"(drift at >= {PARAMS.drift_share_threshold})" in titles[1]
    assert f"(floor {PARAMS.quality_floor})" in titles[2]
    markers = [v for p in panels[1:] for v in p.values if v.legend == "retraining"]
    assert len(markers) == 2 and all(v.tags == [evidently_workspace.RETRAIN_TAG] for v in markers)


def test_labelled_rows_give_live_accuracy_and_a_classification_report(reference: pd.DataFrame) -> None:
    window = reference.sample(120, random_state=2)
    labelled = pd.DataFrame(
        {
            "label": window["label"],
            "prediction": (window["probability"] >= 0.5).astype(int),
            "probability": window["probability"],
        }
    )
    result = drift.analyse(reference, window, PARAMS, labelled)
    expected = (labelled["label"] == labelled["prediction"]).mean()
    assert result.accuracy == pytest.approx(expected) and result.labelled_rows == 120
    assert set(result.snapshots) == {"drift", "classification"}


def arm_pairs(n: int, champion_right: float, challenger_right: float, seed: int) -> pd.DataFrame:
    """Labelled passengers as both arms scored them, each arm right on its share of them."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    frame = pd.DataFrame({"prediction_id": np.arange(1, n + 1), "label": label})
    for arm, share in (("champion", champion_right), ("challenger", challenger_right)):
        prediction = np.where(rng.random(n) < share, label, 1 - label)
        frame[f"{arm}_prediction"] = prediction
        frame[f"{arm}_probability"] = np.where(prediction == 1, 0.75, 0.25) + rng.uniform(-0.2, 0.2, n)
    return frame


def arm_metric(snapshot: Any, metric: str) -> dict[str, float]:
    """classification_name -> value of one metric in a snapshot."""
    return {
        m["config"]["classification_name"]: float(m["value"])
        for m in snapshot.dict()["metrics"]
        if m["config"]["type"].endswith(f":{metric}")
    }


def test_the_arms_report_gives_each_arm_its_own_quality_on_the_same_passengers(tmp_path: Path) -> None:
    pairs = arm_pairs(300, champion_right=0.8, challenger_right=0.6, seed=5)
    snapshot = drift.compare_arms(pairs)
    expected = {
        a: float((pairs[f"{a}_prediction"] == pairs["label"]).mean()) for a in ("champion", "challenger")
    }
    assert expected["champion"] - expected["challenger"] > 0.1
    assert arm_metric(snapshot, "Accuracy") == pytest.approx(expected)
    labels = {"challenger_version": "4", "decision": "reject"}
    ids = drift.save_arms(
        snapshot, tmp_path / "evidently", "titanic-survival-experiment", tmp_path / "r", "t1", labels
    )
    html = Path(
        evidently_workspace.report_paths(tmp_path / "r", "t1", [drift.ARMS_REPORT])[drift.ARMS_REPORT]
    )
    assert html.stat().st_size > 10_000 and not list(html.parent.glob(".*.tmp"))
    (stored,) = (tmp_path / "evidently").glob(f"*/snapshots/{ids[drift.ARMS_REPORT]}.json")
    assert {"challenger_version=4", "decision=reject"} <= set(json.loads(stored.read_text())["tags"])
    from evidently.ui.workspace import Workspace

    (project,) = Workspace(str(tmp_path / "evidently")).search_project("titanic-survival-experiment")
    plotted = [v for p in project.dashboard.model().panels[1:] for v in p.values]
    assert [(v.legend, v.metric_labels) for v in plotted] == [
        (a, {"classification_name": a}) for a in ("champion", "challenger")
    ] * 2
    drawn = dashboard_points(tmp_path / "evidently", project.id, plotted[:2])
    assert drawn == [[pytest.approx(expected[a])] for a in ("champion", "challenger")], "one series per arm"


def dashboard_points(workspace: Path, project_id: Any, values: list[Any]) -> list[list[float]]:
    """What the UI's line panel draws for `values`: one series each (Evidently's local data storage)."""
    import asyncio

    from evidently.ui.service.base import SeriesFilter
    from evidently.ui.service.storage.local.base import InMemoryDataStorage

    filters = [
        SeriesFilter(tags=[], metadata={}, metric=v.metric, metric_labels=v.metric_labels) for v in values
    ]
    found = asyncio.run(InMemoryDataStorage(str(workspace)).get_data_series(project_id, filters, None, None))
    by_arm = {s.params["classification_name"]: list(s.values) for s in found.series}
    return [by_arm[v.metric_labels["classification_name"]] for v in values]


def test_the_arms_report_needs_both_classes_among_the_pairs() -> None:
    pairs = arm_pairs(50, 0.8, 0.8, seed=6).assign(label=1)
    assert drift.compare_arms(pairs) is None
    assert drift.compare_arms(pairs.iloc[:0]) is None


def test_a_look_without_labelled_pairs_does_not_import_evidently() -> None:
    """Each monitoring cycle looks at a running experiment; before labels arrive, that is free."""
    code = (
        "import sys, pandas as pd\n"
        "from titanic_mlops.adapters.evidently import reports as drift\n"
        "from titanic_mlops.domain import experiment_counts\n"
        "assert drift.compare_arms(pd.DataFrame({experiment_counts.LABEL: [1]})) is None\n"
        "assert 'evidently' not in sys.modules, 'imported Evidently for nothing'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
