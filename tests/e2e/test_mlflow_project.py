"""MLflow Projects over the one DAG: each entry point is `dvc repro <stage>`, and it runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_dvc_repro import BIN, tracked_files

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "MLproject").read_text())
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def test_every_dvc_stage_is_an_entry_point_that_runs_it_through_dvc() -> None:
    entry_points = PROJECT["entry_points"]
    assert set(entry_points) == {"main", *STAGES}
    assert entry_points["main"]["command"] == "dvc repro"
    for stage in STAGES:
        assert entry_points[stage]["command"] == f"dvc repro {stage}"


@pytest.mark.slow
def test_mlflow_run_of_an_entry_point_runs_the_stage_and_records_a_finished_run(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for name in tracked_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "s"],
    ):
        subprocess.run(["git", *args], cwd=clone, check=True)
    store = f"sqlite:///{clone / '.state' / 'mlflow' / 'mlflow.db'}"
    (clone / ".state" / "mlflow").mkdir(parents=True)
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "TITANIC_MLOPS_STATE_DIR": str(clone / ".state"),
        "MLFLOW_TRACKING_URI": store,
    }
    done = subprocess.run(
        [str(BIN / "mlflow"), "run", ".", "-e", "ingest", "--env-manager", "local"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Running stage 'ingest'" in done.stdout
    assert (clone / "data" / "interim" / "train.parquet").is_file()
    listed = subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import mlflow; print(mlflow.search_runs(search_all_experiments=True).status.tolist())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "FINISHED" in listed
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True
    ).stdout
    assert status == "", status  # the stage's output is byte-reproducible: dvc.lock is unchanged
