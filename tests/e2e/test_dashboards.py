"""`make up`'s MLflow UI and Evidently UI in headless Chromium: the model and a drift report show.

Needs Debian's chromium (`apt-get install -y chromium`); Playwright drives it, never a browser
of its own. Screenshots land in the test's tmp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.support.net import free_port
from tests.support.workspace import ROOT, Workspace
from titanic_mlops.adapters.evidently import reports as drift
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import monitoring_data

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def dashboards(
    trained_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    ws = trained_workspace
    state = tmp_path_factory.mktemp("dashboards") / "state"
    reference = monitoring_data.reference_frame(
        pd.read_parquet(ws.path("data/validated/train.parquet")),
        pd.read_parquet(ws.path("data/features/passengers.parquet")),
    )
    current = reference.sample(150, random_state=0).assign(age=lambda f: f["age"] + 30)
    params = load_params(ws.path("params.yaml")).monitor
    assert params is not None
    drift.save(
        drift.analyse(reference, current, params),
        state / "evidently",
        "titanic-survival",
        state / "reports",
        "t0",
    )
    ports = {"MLFLOW_PORT": str(free_port()), "EVIDENTLY_PORT": str(free_port())}
    env = {
        **os.environ,
        **ports,
        "TITANIC_MLOPS_TRACKING_URI": f"sqlite:///{ws.state / 'mlflow' / 'mlflow.db'}",
    }
    services = [sys.executable, str(ROOT / "scripts" / "services.py")]
    subprocess.run(
        [
            *services,
            "up",
            "--state",
            str(state),
            "--workspace",
            str(ws.root),
            "--only",
            "mlflow,evidently",
            "--timeout",
            "120",
        ],
        env=env,
        check=True,
    )
    try:
        yield {
            "mlflow": f"http://127.0.0.1:{ports['MLFLOW_PORT']}",
            "evidently": f"http://127.0.0.1:{ports['EVIDENTLY_PORT']}",
            "screenshots": str(state / "screenshots"),
        }
    finally:
        subprocess.run([*services, "down", "--state", str(state)], env=env, check=True)


def test_mlflow_shows_the_champion_and_evidently_the_drift_report(dashboards: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(dashboards["screenshots"])
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{dashboards['mlflow']}/#/models/titanic-survival", timeout=60_000)
            page.get_by_text("champion").first.wait_for(timeout=60_000)
            assert page.get_by_text("Version 1").count() >= 1
            page.screenshot(path=str(shots / "mlflow-model.png"))

            page.goto(dashboards["evidently"], timeout=60_000)
            page.get_by_text("titanic-survival").first.click(timeout=60_000)
            page.get_by_text("Reports").first.click()
            page.get_by_role("row").filter(has_text="t0 drift").first.get_by_text("View").click()
            page.get_by_text("Drifted Columns").first.wait_for(timeout=60_000)
            assert page.get_by_text("Dataset Drift").count() >= 1
            page.screenshot(path=str(shots / "evidently-drift.png"))
        finally:
            browser.close()
    assert (shots / "mlflow-model.png").stat().st_size > 10_000
    assert (shots / "evidently-drift.png").stat().st_size > 10_000
