"""The MLflow UI, rendered by headless Chromium: the child runs, the datasets and the model card.

Playwright drives Debian's chromium and waits for each page's data to show. MLflow 3.17 opens
an experiment in the GenAI view unless the workflow type says otherwise
(`?workflowType=machine_learning`, what the docs' links use).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.model.conftest import registry_for
from tests.support.net import free_port, wait_for
from tests.support.workspace import Workspace
from titanic_mlops.adapters.mlflow.registry import Registry

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ML_VIEW = "workflowType=machine_learning"
SERVE = ("--host", "127.0.0.1", "--workers", "1", "--port")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def ui(trained_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    registry = registry_for(trained_workspace)
    port = free_port()
    log = tmp_path_factory.mktemp("mlflow-ui") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                registry.tracking_uri,
                *SERVE,
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(base, server), timeout=900, what=f"mlflow server ({log})")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


def healthy(base: str, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "mlflow server exited"
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def page(ui: str) -> Iterator[Any]:
    """One headless Chromium page (Debian's, driven by Playwright; never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1600, "height": 1200})
        finally:
            browser.close()


def rendered_text(page: Any, url: str, ready: str) -> str:
    """The page's visible text once `ready` shows (the app has loaded its data)."""
    page.goto(url, timeout=120_000)
    page.get_by_text(ready).first.wait_for(timeout=180_000)
    return re.sub(r"\s+", " ", str(page.inner_text("body")))


@pytest.fixture(scope="module")
def registry(trained_workspace: Workspace) -> Registry:
    return registry_for(trained_workspace)


@pytest.fixture(scope="module")
def parent(registry: Registry) -> Any:
    return registry.client.get_run(registry.version("1").run_id)


def test_the_training_run_page_lists_the_child_runs_and_the_datasets(
    ui: str, page: Any, registry: Registry, parent: Any
) -> None:
    run = parent.info
    children = registry.client.search_runs([run.experiment_id], f"tags.mlflow.parentRunId = '{run.run_id}'")
    assert children
    url = f"{ui}/#/experiments/{run.experiment_id}/runs/{run.run_id}?{ML_VIEW}"
    text = rendered_text(page, url, children[0].info.run_name)  # "Child runs" shows before they load
    assert "train-v1-pipeline" in text
    assert "Child runs" in text
    for child in children:
        assert child.info.run_name in text
    train = next(item.dataset for item in parent.inputs.dataset_inputs if item.dataset.name == "train")
    assert f"train ({train.digest})" in text


def test_the_experiment_opens_on_its_runs_with_both_datasets(ui: str, page: Any, parent: Any) -> None:
    text = rendered_text(
        page, f"{ui}/#/experiments/{parent.info.experiment_id}?{ML_VIEW}", "train-v1-pipeline"
    )
    assert page.title().startswith("Runs - Experiment")
    for item in parent.inputs.dataset_inputs:
        assert f"{item.dataset.name} ({item.dataset.digest})" in text


def test_the_model_version_page_shows_the_model_card_and_the_gate(
    ui: str, page: Any, registry: Registry
) -> None:
    url = f"{ui}/#/models/{registry.model_name}/versions/1?{ML_VIEW}"
    text = rendered_text(page, url, "Intended use")
    for words in ("Intended use", "Holdout metrics", "Slices (holdout)", "Known limits", "Gate decision"):
        assert words in text
    assert "min_accuracy" in text
    assert "train-v1-pipeline" in text
