"""Shared fixtures. `trained_workspace` runs the real pipeline once per session into a temp dir."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Prefect's INFO lines at interpreter exit go to a stream pytest has already closed.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parents[1]
RAW_TRAIN = ROOT / "data" / "external" / "titanic" / "train.csv"
RAW_TEST = ROOT / "data" / "external" / "titanic" / "test.csv"


@dataclass(frozen=True)
class Workspace:
    """A private copy of the project's data layout with its own state directory."""

    root: Path
    state: Path

    @property
    def repo(self) -> Path:
        return self.root / "feature_repo"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def env(self) -> dict[str, str]:
        return {
            "TITANIC_MLOPS_STATE_DIR": str(self.state),
            "TITANIC_MLOPS_FEATURE_REPO": str(self.repo),
            "PREFECT_HOME": str(self.state / "prefect"),
        }


def make_workspace(root: Path) -> Workspace:
    shutil.copytree(ROOT / "feature_repo", root / "feature_repo")
    shutil.copytree(ROOT / "data" / "external", root / "data" / "external")
    (root / "data" / "feedback").mkdir(parents=True)
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    return Workspace(root=root, state=root / ".state")


def train_argv(ws: Workspace, holdout: Path, metrics: Path, plots: Path, candidate: Path) -> list[str]:
    """The train stage's command line over the workspace's validated data and features."""
    p = ws.path
    return [
        "train",
        "--input",
        str(p("data/validated/train.parquet")),
        "--feature-source",
        str(p("data/features/passengers.parquet")),
        "--validation-report",
        str(p("reports/validation/result.json")),
        "--holdout",
        str(holdout),
        "--metrics",
        str(metrics),
        "--plots",
        str(plots),
        "--candidate",
        str(candidate),
        "--repo",
        str(ws.repo),
        "--params",
        str(p("params.yaml")),
    ]


def run_pipeline(ws: Workspace) -> None:
    """The dvc.yaml stages, called in order through the CLI (what `dvc repro` runs)."""
    from titanic_mlops.cli import main

    p = ws.path
    params = ["--params", str(p("params.yaml"))]
    steps = [
        [
            "ingest",
            "--raw",
            str(p("data/external/titanic/train.csv")),
            "--feedback",
            str(p("data/feedback")),
            "--out",
            str(p("data/interim/train.parquet")),
        ],
        [
            "validate",
            "--input",
            str(p("data/interim/train.parquet")),
            "--out",
            str(p("data/validated/train.parquet")),
            "--report",
            str(p("reports/validation/result.json")),
            "--docs",
            str(p("reports/validation/docs")),
            *params,
        ],
        [
            "features",
            "--input",
            str(p("data/validated/train.parquet")),
            "--test",
            str(p("data/external/titanic/test.csv")),
            "--out-dir",
            str(p("data/features")),
            "--repo",
            str(ws.repo),
            *params,
        ],
        train_argv(
            ws,
            holdout=p("data/holdout/holdout.parquet"),
            metrics=p("reports/metrics.json"),
            plots=p("reports/plots"),
            candidate=p("reports/candidate.json"),
        ),
        [
            "promote",
            "--candidate",
            str(p("reports/candidate.json")),
            "--holdout",
            str(p("data/holdout/holdout.parquet")),
            "--out",
            str(p("reports/promotion.json")),
            *params,
        ],
    ]
    for step in steps:
        code = main(step)
        assert code == 0, f"pipeline step {step[0]} failed"


@pytest.fixture(scope="session")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The whole pipeline, run once: a registered champion, a filled online store."""
    ws = make_workspace(tmp_path_factory.mktemp("workspace"))
    saved = {key: os.environ.get(key) for key in ws.env()}
    os.environ.update(ws.env())
    try:
        run_pipeline(ws)
        yield ws
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def workspace_env(trained_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The trained workspace's settings in the environment for one test."""
    for key, value in trained_workspace.env().items():
        monkeypatch.setenv(key, value)
    return trained_workspace
