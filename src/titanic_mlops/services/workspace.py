"""A private DVC workspace: the project's pipeline layout copied into a folder of its own.

`make demo` and the end-to-end tests run the real `dvc repro` there, so they never touch the
checkout's data/, dvc.lock or feedback batches (other work may be using them) and each run
starts from the upstream snapshot. The code itself runs from the installed package; the copies
of src/ and pipelines/ only give `dvc.yaml`'s dependencies something to hash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

_COPIED = ("dvc.yaml", "params.yaml", "data/external", "feature_repo", "src/titanic_mlops", "pipelines")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def create_dvc_workspace(root: Path, project: Path, remote: Path, dvc: str | None = None) -> Path:
    """Copy the pipeline layout of `project` into `root` (which must not exist) and `dvc init` it.

    The default remote is recorded relative to the workspace (DVC keeps it relative to
    `.dvc/config`), so a workspace copied or moved with its remote beside it, as the demo's
    are inside the state directory, pushes to its own copy and never to the original's.
    """
    if root.exists():
        raise FileExistsError(f"{root}: the workspace folder already exists")
    for relative in _COPIED:
        source = project / relative
        if not source.exists():
            raise FileNotFoundError(f"{source}: missing from the project, cannot build a workspace")
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORED)
        else:
            shutil.copy2(source, target)
    (root / "data" / "feedback").mkdir(parents=True, exist_ok=True)
    remote.mkdir(parents=True, exist_ok=True)
    dvc = dvc or str(Path(sys.executable).parent / "dvc")
    for command in (
        [dvc, "init", "--no-scm", "-q"],
        [dvc, "remote", "add", "-d", "local", os.path.relpath(remote.resolve(), root.resolve())],
        [dvc, "config", "core.autostage", "false"],
    ):
        subprocess.run(command, cwd=root, check=True, capture_output=True, text=True)
    return root
