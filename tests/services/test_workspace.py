"""A private DVC workspace names its remote relatively, so a copy pushes to its own remote."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.workspace import ROOT
from titanic_mlops.services.workspace import create_dvc_workspace

DVC = str(Path(sys.executable).parent / "dvc")


def dvc(work: Path, *args: str) -> str:
    return subprocess.run([DVC, *args], cwd=work, check=True, capture_output=True, text=True).stdout


def pushed(remote: Path) -> list[Path]:
    return sorted(p for p in remote.rglob("*") if p.is_file())


def test_a_copied_workspace_pushes_to_the_remote_beside_it_not_the_originals(tmp_path: Path) -> None:
    original = tmp_path / "state"
    work = create_dvc_workspace(original / "demo-workspace", ROOT, original / "demo-dvc-remote", DVC)
    assert str(tmp_path) not in (work / ".dvc" / "config").read_text()
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)
    copied_work = copy / "demo-workspace"
    (copied_work / "note.txt").write_text("only in the copy\n")
    dvc(copied_work, "add", "-q", "note.txt")
    dvc(copied_work, "push", "-q")
    assert pushed(copy / "demo-dvc-remote"), "the copy's push went nowhere"
    assert pushed(original / "demo-dvc-remote") == []
