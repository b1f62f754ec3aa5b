"""Shared helpers for the deployment tests: repository root, architecture contract, tools."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "architecture.md"

_TABLE_ROW = re.compile(r"^\|\s*`(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(?P<rest>.*)\|\s*$")


def _section(markdown: str, heading_prefix: str) -> str:
    """The text under the first `## ` heading that starts with heading_prefix."""
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)
    for part in parts[1:]:
        if part.startswith(heading_prefix):
            return part
    raise AssertionError(f"docs/architecture.md has no '## {heading_prefix}' section")


def _table_names(section: str) -> dict[str, str]:
    """First-column code names of every table in a section, mapped to their second column."""
    rows: dict[str, str] = {}
    for line in section.splitlines():
        match = _TABLE_ROW.match(line.strip())
        if match:
            rows[match["name"]] = match["rest"].split("|")[0].strip()
    return rows


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def documented_metrics() -> dict[str, str]:
    """Metric name -> type ('counter', 'histogram', 'gauge ...') from the architecture tables."""
    metrics = _table_names(_section(ARCHITECTURE.read_text(encoding="utf-8"), "Prometheus metrics"))
    assert len(metrics) >= 10, f"parsed too few metrics from docs/architecture.md: {metrics}"
    return metrics


@pytest.fixture(scope="session")
def documented_settings() -> set[str]:
    """The TITANIC_MLOPS_* variables the settings table documents."""
    settings = set(_table_names(_section(ARCHITECTURE.read_text(encoding="utf-8"), "Settings")))
    assert "TITANIC_MLOPS_TRACKING_URI" in settings, settings
    return settings


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str, str], str]:
    """Return a tool's path; without it, skip on a laptop but FAIL in CI (CI=true)."""

    def _require(name: str, how_to_install: str) -> str:
        path = shutil.which(name)
        if path is not None:
            return path
        message = f"`{name}` is not on PATH; install it: {how_to_install}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
        raise AssertionError("unreachable")  # pytest.skip raises

    return _require
