"""The serving image: built from the locked serving wheels, run on a trained state, smoke-tested.

Runs the same scripts as `make image` / `make container-test` (scripts/container/*.sh). Where no
Docker daemon answers, the engine script sets up Podman behind the docker CLI; if that is not
possible the tests fail, unless TITANIC_MLOPS_SKIP_CONTAINER_TESTS=1 says to skip them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "container"
TRAINING_ONLY = ("great-expectations", "evidently", "prefect", "dvc", "statsmodels", "fairlearn", "skl2onnx")
# Development tools that an extra of a dependency once pulled in (Feast's sqlalchemy[mypy]).
DEVELOPMENT_ONLY = ("mypy", "types-greenlet", "ruff", "pytest")
# The full `mlflow` (its server, UI, Flask and matplotlib, ~150 MB) is the tracking server's:
# serving needs only the client, mlflow-skinny.
SERVER_ONLY = ("mlflow", "flask", "matplotlib", "graphene")
SMOKE_CHECKS = ("ready", "predict", "health", "non-root", "packages", "healthcheck")
# A skip marker, not a skip inside a fixture: the session's trained_workspace is set up before
# any module fixture could skip, and costs minutes.
skip_on_request = pytest.mark.skipif(
    os.environ.get("TITANIC_MLOPS_SKIP_CONTAINER_TESTS") == "1",
    reason="TITANIC_MLOPS_SKIP_CONTAINER_TESTS=1",
)


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".venv-uv" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: run `make setup`"
    return found


def test_serving_closure_holds_no_training_only_package() -> None:
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--extra", "serving", "--no-emit-project", "--no-hashes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {
        re.split(r"[=<>;\s\[]", line.strip(), maxsplit=1)[0].lower()
        for line in exported.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    wanted = {"fastapi", "uvicorn", "onnxruntime", "mlflow-skinny", "alembic", "skops", "feast"}
    assert wanted <= names, sorted(names)
    server = sorted(names & set(SERVER_ONLY))
    assert not server, f"the serving closure pulls in the tracking server's packages: {server}"
    found = {n for n in names if n in TRAINING_ONLY or n.startswith(("prefect-", "dvc-"))}
    assert not found, f"the serving closure pulls in training-only packages: {sorted(found)}"
    tools = sorted(names & set(DEVELOPMENT_ONLY))
    assert not tools, f"the serving closure pulls in development tools: {tools}"


@pytest.fixture(scope="module")
def engine_env() -> dict[str, str]:
    """The environment that reaches a Docker API (a daemon, or Podman set up by engine.sh)."""
    # one Podman service per checkout, whatever state directory the test session uses
    env = {**os.environ, "TITANIC_MLOPS_CONTAINER_DIR": str(REPO / ".state" / "container")}
    result = subprocess.run(
        [str(SCRIPTS / "engine.sh")], capture_output=True, text=True, env=env, timeout=900
    )
    assert result.returncode == 0, (
        "no container engine (set TITANIC_MLOPS_SKIP_CONTAINER_TESTS=1 to skip on purpose):\n" + result.stderr
    )
    for line in result.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


@pytest.fixture(scope="module")
def image(engine_env: dict[str, str]) -> str:
    result = subprocess.run(
        ["make", "-C", str(REPO), "--no-print-directory", "image"],
        capture_output=True,
        text=True,
        env=engine_env,
        timeout=1800,
    )
    assert result.returncode == 0, f"make image failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return "titanic-mlops-serving:latest"


@pytest.fixture(scope="module")
def smoke(engine_env: dict[str, str], image: str, trained_workspace: Workspace) -> str:
    env = {
        **engine_env,
        **trained_workspace.env(),
        "SERVING_IMAGE": image,
        "PYTHON": sys.executable,
    }
    result = subprocess.run([str(SCRIPTS / "smoke.sh")], capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"smoke test failed:\n{output[-4000:]}"
    return output


@skip_on_request
@pytest.mark.container
@pytest.mark.slow
@pytest.mark.parametrize("check", SMOKE_CHECKS)
def test_image_passes_smoke_check(smoke: str, check: str) -> None:
    assert re.search(rf"^ok {re.escape(check)}: ", smoke, flags=re.MULTILINE), smoke


@skip_on_request
@pytest.mark.container
@pytest.mark.slow
def test_image_is_tagged_with_the_git_commit(engine_env: dict[str, str], image: str) -> None:
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if sha.returncode != 0:
        pytest.skip("not a git checkout")
    ids = [
        subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Id}}", ref],
            capture_output=True,
            text=True,
            env=engine_env,
            check=True,
        ).stdout.strip()
        for ref in (image, f"titanic-mlops-serving:{sha.stdout.strip()}")
    ]
    assert ids[0] == ids[1]


@skip_on_request
@pytest.mark.container
@pytest.mark.slow
def test_image_runs_as_a_non_root_user_by_default(engine_env: dict[str, str], image: str) -> None:
    user = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Config.User}}", image],
        capture_output=True,
        text=True,
        env=engine_env,
        check=True,
    ).stdout.strip()
    assert user and user.split(":")[0] not in ("0", "root"), user
