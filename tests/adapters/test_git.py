"""Lineage: a commit is dirty when the code differs, not when the pipeline rewrote its outputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from titanic_mlops.adapters.git import git_commit

OUTPUTS = (Path("dvc.lock"), Path("reports/metrics.json"), Path("reports/plots"))


def checkout(root: Path) -> str:
    (root / "reports" / "plots").mkdir(parents=True)
    for name in ("code.py", "dvc.lock", "reports/metrics.json", "reports/plots/roc.csv"):
        (root / name).write_text("committed\n")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "snapshot"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_rewritten_and_deleted_pipeline_outputs_leave_the_commit_clean(tmp_path: Path) -> None:
    sha = checkout(tmp_path)
    (tmp_path / "dvc.lock").write_text("rewritten by dvc repro\n")
    (tmp_path / "reports" / "metrics.json").unlink()  # DVC removes an output before its stage runs
    (tmp_path / "reports" / "plots" / "roc.csv").write_text("new curve\n")
    assert git_commit(tmp_path, OUTPUTS) == sha


def test_a_changed_code_file_makes_the_commit_dirty(tmp_path: Path) -> None:
    sha = checkout(tmp_path)
    (tmp_path / "dvc.lock").write_text("rewritten\n")
    (tmp_path / "code.py").write_text("edited\n")
    assert git_commit(tmp_path, OUTPUTS) == f"{sha}-dirty"


def test_without_outputs_named_every_tracked_change_counts(tmp_path: Path) -> None:
    sha = checkout(tmp_path)
    (tmp_path / "dvc.lock").write_text("rewritten\n")
    assert git_commit(tmp_path) == f"{sha}-dirty"


def test_outside_a_checkout_the_commit_is_unknown(tmp_path: Path) -> None:
    assert git_commit(tmp_path, OUTPUTS) == "unknown"
