"""A retraining killed mid-`dvc repro` leaves no batch that the next one would train on twice."""

from __future__ import annotations

from pathlib import Path

from titanic_mlops.config.layout import WorkspaceLayout
from titanic_mlops.config.settings import Settings
from titanic_mlops.services import retrain
from titanic_mlops.services.deployment import Deployment


def test_the_batch_of_an_interrupted_retraining_is_set_aside_once(tmp_path: Path) -> None:
    deployment = Deployment(Settings(state_dir=tmp_path / "state"))
    layout = WorkspaceLayout(tmp_path / "work")
    layout.feedback_dir.mkdir(parents=True)
    kept = layout.feedback_dir / "20261201T000000Z-90.csv"
    kept.write_text("PassengerId\n1\n")
    batch = layout.feedback_dir / "20261202T000000Z-120.csv"
    batch.write_text("PassengerId\n2\n")
    marker = retrain.in_flight_marker(deployment)
    marker.parent.mkdir(parents=True)
    marker.write_text(str(batch))  # what a worker killed during `dvc repro` leaves behind

    moved = retrain.set_aside_interrupted(deployment, layout)

    assert moved == layout.feedback_dir / "rejected" / "interrupted-20261202T000000Z-120.csv"
    assert moved.read_text() == "PassengerId\n2\n"
    assert sorted(p.name for p in layout.feedback_dir.glob("*.csv")) == [kept.name]
    assert not marker.exists()
    assert retrain.set_aside_interrupted(deployment, layout) is None, "nothing left to set aside"
