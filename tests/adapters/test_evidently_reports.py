"""The Evidently adapter on real feature frames: a shifted column drifts, a resample does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.support.samples import monitor_params
from tests.support.workspace import RAW_TRAIN
from titanic_mlops.adapters import evidently_reports as drift
from titanic_mlops.domain import features, monitoring_data
from titanic_mlops.services import ingest

pytestmark = pytest.mark.slow
PARAMS = monitor_params(cooldown_minutes=0)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    train = ingest.read_raw_csv(RAW_TRAIN, labelled=True)
    table = features.build_feature_table(train.drop(columns="Survived"), datetime(2020, 1, 1, tzinfo=UTC))
    frame = monitoring_data.reference_frame(train, table)
    return monitoring_data.with_probability(frame, (frame["sex"] == "female").astype(float) * 0.8 + 0.1)


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
    html = drift.report_paths(tmp_path / "reports", "t1", ["drift"])["drift"]
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
    assert len(markers) == 2 and all(v.tags == [drift.RETRAIN_TAG] for v in markers)


def test_a_corrupt_snapshot_is_quarantined_and_the_next_save_goes_on(
    reference: pd.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calm = drift.analyse(reference, reference.sample(150, random_state=3), PARAMS, full=False)
    ws = tmp_path / "evidently"
    first = drift.save(calm, ws, "titanic-survival", tmp_path / "reports", "t1")
    (good,) = ws.glob(f"*/snapshots/{first['drift']}.json")
    broken = good.with_name("00000000-0000-0000-0000-000000000000.json")
    broken.write_text('{"truncated": ')
    second = drift.save(calm, ws, "titanic-survival", tmp_path / "reports", "t2")
    assert second["drift"] != first["drift"] and good.exists()
    assert not broken.exists()
    assert list((ws / "quarantine").glob("*.json"))
    assert "quarantined" in caplog.text


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
