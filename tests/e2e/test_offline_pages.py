"""Headless Chromium with the network off renders the project's pages (screenshots in tmp_path).

"Network off": every request that is not to this machine goes to a proxy that does not exist
(`--proxy-server` on a closed port; loopback bypasses proxies), so a page that needs a CDN
stays blank and its rendered DOM lacks what the test looks for.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from serving import docs
from tests.support.net import free_port, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEAD_PROXY = f"http://127.0.0.1:{free_port()}"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def chromium(url: str, profile: Path, screenshot: Path | None = None) -> str:
    """The DOM after scripts ran (or a screenshot), offline but for loopback."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--proxy-server={DEAD_PROXY}",
        "--virtual-time-budget=15000",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ]
    action = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
    done = subprocess.run(
        [CHROMIUM, *flags, *action, url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def api_pages() -> Iterator[str]:
    """The API's docs pages (serving/docs.py) on a live uvicorn, with one route to document."""
    app = FastAPI(title="titanic-mlops", docs_url=None, redoc_url=None)
    docs.install(app)

    @app.post("/predict", summary="Survival predictions for passengers")
    def predict() -> dict[str, str]:
        return {}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "uvicorn started")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/docs", 'class="opblock-summary-path"'), ("/redoc", "Survival predictions for passengers")],
)
def test_api_docs_render_offline(api_pages: str, tmp_path: Path, path: str, rendered: str) -> None:
    dom = chromium(api_pages + path, tmp_path / "profile")
    assert rendered in dom, dom[:2000]
    shot = tmp_path / f"{path.strip('/')}.png"
    chromium(api_pages + path, tmp_path / "profile", shot)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_the_root_lands_on_the_docs(api_pages: str, tmp_path: Path) -> None:
    assert 'class="opblock-summary-path"' in chromium(api_pages + "/", tmp_path)


def test_a_cdn_page_does_not_render_offline(tmp_path: Path) -> None:
    """The control: the same check fails for FastAPI's default (CDN) page, so the test can fail."""
    app = FastAPI(title="cdn")

    @app.post("/predict")
    def predict() -> dict[str, str]:
        return {}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, "uvicorn started")
        assert 'class="opblock-summary-path"' not in chromium(f"http://127.0.0.1:{port}/docs", tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_the_validation_report_renders_offline(tmp_path: Path) -> None:
    """The validate stage's own page (services/validate.py), a failed run: every row, no CDN."""
    from titanic_mlops.domain.stage_outputs import ValidationReport
    from titanic_mlops.services import validate

    report = ValidationReport(
        suite="passengers",
        success=False,
        evaluated_expectations=2,
        failed_expectations=1,
        failures=[
            "expect_column_values_to_be_in_set failed on column Sex: 1 unexpected row(s), e.g. ['robot']"
        ],
        rows=891,
        results=[
            {"expectation": "expect_column_to_exist", "column": "Age", "success": True},
            {
                "expectation": "expect_column_values_to_be_in_set",
                "column": "Sex",
                "success": False,
                "unexpected_count": 1,
                "examples": ["robot"],
            },
        ],
    )
    page = validate.write_html(report, tmp_path / "docs")
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]
    text = page.read_text()
    assert "://" not in text and "<script" not in text
    dom = chromium(page.as_uri(), tmp_path / "profile")
    assert "Data validation FAILED" in dom and "robot" in dom and dom.count("<tr") == 3
    shot = tmp_path / "validation.png"
    chromium(page.as_uri(), tmp_path / "profile", shot)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_the_dvc_plots_page_renders_offline(tmp_path: Path) -> None:
    """`make plots` (scripts/plots_page.py) on the committed plots: every chart drawn, no CDN;
    DVC's default page, the control, draws none with the network off."""
    import sys

    from tests.support.workspace import ROOT

    ours, default = tmp_path / "ours", tmp_path / "default"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plots_page.py"), "--out", str(ours)], cwd=ROOT, check=True
    )
    dvc = Path(sys.executable).parent / "dvc"
    subprocess.run([str(dvc), "plots", "show", "-o", str(default)], cwd=ROOT, check=True, capture_output=True)
    page = ours / "index.html"
    assert "<script src=" not in page.read_text()
    charts = len(list((ROOT / "reports" / "plots").glob("*.csv")))
    assert chromium(page.as_uri(), tmp_path / "profile").count('class="marks"') == charts == 3
    assert 'class="marks"' not in chromium((default / "index.html").as_uri(), tmp_path / "profile")
    shot = tmp_path / "plots.png"
    chromium(page.as_uri(), tmp_path / "profile", shot)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
