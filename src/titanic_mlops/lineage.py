"""Where a model came from: the code commit, the data hash, the features, the validation result."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from titanic_mlops.atomic import file_md5


def git_commit(repo: Path) -> str:
    """HEAD's sha, suffixed '-dirty' when tracked files differ; 'unknown' outside a checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def lineage_tags(
    data: Path,
    feature_source: Path,
    validation_report: Path,
    feature_service: str,
    feature_names: tuple[str, ...],
    repo: Path,
) -> dict[str, str]:
    """The tags every registered version carries (the data hash equals DVC's md5 of the file)."""
    report = json.loads(validation_report.read_text())
    return {
        "git_commit": git_commit(repo),
        "data_path": str(data),
        "data_md5": file_md5(data),
        "feature_source_md5": file_md5(feature_source),
        "feature_service": feature_service,
        "feature_names": ",".join(feature_names),
        "validation_success": str(report["success"]).lower(),
        "validation_expectations": str(report["evaluated_expectations"]),
    }
