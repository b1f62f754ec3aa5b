"""Shared fixtures. `trained_workspace` runs the real pipeline once per session into a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.workspace import Workspace, make_workspace, run_pipeline

# Prefect's INFO lines at interpreter exit go to a stream pytest has already closed.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

pytest_plugins = ["tests.support.production"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`services` tests run only when asked (`-m services` or TITANIC_MLOPS_SERVICES=1)."""
    wanted = (
        "services" in (config.getoption("markexpr") or "") or os.environ.get("TITANIC_MLOPS_SERVICES") == "1"
    )
    if wanted:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: run `make test-services` (-m services)")
    for item in items:
        if item.get_closest_marker("services") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The whole pipeline, run once: a registered champion, a filled online store."""
    ws = make_workspace(tmp_path_factory.mktemp("workspace"))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ws.env().items():
            patch.setenv(key, value)
        run_pipeline(ws)
        yield ws


@pytest.fixture
def workspace_env(trained_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The trained workspace's settings in the environment for one test."""
    for key, value in trained_workspace.env().items():
        monkeypatch.setenv(key, value)
    return trained_workspace
