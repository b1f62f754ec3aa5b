"""Acceptance of the pipeline from a clean copy: `dvc repro` cold (git stays clean), a no-op, a bad file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line and (ROOT / line).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed project in a fresh folder with its own git repository and state."""
    root = tmp_path_factory.mktemp("clone")
    for name in tracked_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "snapshot"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def run(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "TITANIC_MLOPS_STATE_DIR": str(clone / ".state"),
        "PREFECT_HOME": str(clone / ".state" / "prefect"),
    }
    env.pop("TITANIC_MLOPS_FEATURE_REPO", None)
    return subprocess.run(list(args), cwd=clone, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_cold_repro_then_noop_then_a_corrupt_file_stops_at_validation(clone: Path) -> None:
    cold = run(clone, "dvc", "repro")
    assert cold.returncode == 0, cold.stdout[-3000:] + cold.stderr[-3000:]
    for stage in ("ingest", "validate", "features", "train", "promote"):
        assert f"Running stage '{stage}'" in cold.stdout

    again = run(clone, "dvc", "repro")
    assert again.returncode == 0
    # Only `promote` runs again (always changed, dvc.yaml), and it sees the version judged already.
    assert [line for line in again.stdout.splitlines() if line.startswith("Running stage")] == [
        "Running stage 'promote':"
    ]
    assert "Stage 'train' didn't change, skipping" in again.stdout
    assert "judged already" in again.stdout + again.stderr

    # Every output dvc.lock records is byte-reproducible, and the run's own rewrites are not "dirty".
    assert run(clone, "git", "status", "--porcelain").stdout == ""
    status = json.loads(run(clone, "titanic-mlops", "status", "--json").stdout)
    champion = status["champion"]["version"]
    assert not status["champion"]["lineage"]["git_commit"].endswith("-dirty")

    raw_path = clone / "data" / "external" / "titanic" / "train.csv"
    raw = pd.read_csv(raw_path)
    raw.loc[0, "Fare"] = -10.0
    raw.loc[1, "Sex"] = "unknown"
    raw.drop(columns=["SibSp"]).to_csv(raw_path, index=False)
    bad = run(clone, "dvc", "repro")
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "failed to reproduce 'validate'" in output
    for column in ("Fare", "Sex", "SibSp"):
        assert f"column {column}" in output
    assert "Running stage 'features'" not in bad.stdout
    after = json.loads(run(clone, "titanic-mlops", "status", "--json").stdout)
    assert after["champion"]["version"] == champion
