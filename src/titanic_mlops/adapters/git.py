"""The git adapter: which commit the code a model was trained with came from."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path


def git_commit(repo: Path, outputs: Iterable[Path] = ()) -> str:
    """HEAD's sha, suffixed '-dirty' when tracked files other than `outputs` differ.

    `outputs` are the files the running pipeline itself rewrites (dvc.lock, the committed metrics
    and plots): DVC removes and rewrites them while `dvc repro` runs, so they say nothing about
    the code the model came from. 'unknown' outside a checkout.
    """
    excluded = [f":(exclude){path.as_posix()}" for path in outputs]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha
