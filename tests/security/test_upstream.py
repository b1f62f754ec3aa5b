"""Upstream changes seen early: the weekly newest-releases run and Dependabot's coverage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_dependabot_keeps_the_lock_and_the_pinned_actions_current() -> None:
    config = yaml.safe_load((ROOT / ".github/dependabot.yml").read_text())
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) == {"uv", "github-actions"}
    assert all(u["schedule"]["interval"] == "weekly" for u in config["updates"])
    pandas = [i for i in ecosystems["uv"]["ignore"] if i["dependency-name"] == "pandas"]
    assert pandas == [{"dependency-name": "pandas", "versions": [">=3"]}]  # the project's pin


def test_the_upstream_target_upgrades_a_scratch_copy_and_never_the_lock() -> None:
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "upstream", "MAKEFLAGS="],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    upgrade = next(line for line in plan.splitlines() if "lock --upgrade" in line)
    assert upgrade.startswith("cd build/upstream && ")
    assert "git archive" in plan and "setup tools test" in plan


def test_the_upstream_workflow_runs_the_target_weekly() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/upstream.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    runs = [step.get("run") for step in workflow["jobs"]["newest"]["steps"]]
    assert "make upstream" in runs
    assert workflow["permissions"] == {"contents": "read"}
