"""The API's pages need no network: /docs and /redoc reference only this server's assets."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving import docs


@pytest.fixture(scope="module")
def pages() -> TestClient:
    """The docs pages on a bare app (no model needed: the pages and assets are the app's own)."""
    app = FastAPI(title="titanic-mlops", docs_url=None, redoc_url=None)
    docs.install(app)
    return TestClient(app)


@pytest.mark.parametrize(("page", "assets"), [("/docs", 2), ("/redoc", 1)])
def test_docs_pages_load_only_local_assets(pages: TestClient, page: str, assets: int) -> None:
    html = pages.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""", html)
    referenced = [a or b for a, b in urls]
    assert not [url for url in referenced if "://" in url or url.startswith("//")], referenced
    local = [url for url in referenced if url.startswith(docs.ASSETS_PATH) and not url.endswith(".png")]
    assert len(local) == assets
    for url in local:
        answer = pages.get(url)
        assert answer.status_code == 200 and len(answer.content) > 100_000, url


def test_root_redirects_to_docs_by_path_whatever_the_host(pages: TestClient) -> None:
    answer = pages.get("/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/docs"


def test_the_real_app_serves_the_offline_pages(client: TestClient) -> None:
    assert docs.ASSETS_PATH in client.get("/docs").text
    assert docs.ASSETS_PATH in client.get("/redoc").text
    assert client.get("/", follow_redirects=False).headers["location"] == "/docs"
