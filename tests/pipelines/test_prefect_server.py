"""The early Prefect server: started before the imports, used by the flow, gone with the process."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines import prefect_server
from tests.support.workspace import ROOT

# A fresh interpreter (Prefect not imported yet): start the server, run a flow through it, print
# the API URL, exit.
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from pipelines.prefect_server import early_server

    ready = early_server(Path(sys.argv[1]), timeout=180)
    url = os.environ["PREFECT_API_URL"]
    from prefect import flow

    @flow
    def answer() -> int:
        return 42

    ready()
    assert answer() == 42
    from prefect.settings import PREFECT_API_URL
    assert PREFECT_API_URL.value() == url, "the flow used Prefect's own server"
    print(url)
    """
)


def listening(url: str) -> bool:
    host_port = url.removeprefix("http://").split("/")[0]
    host, port = host_port.split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


@pytest.mark.slow
def test_a_flow_runs_on_the_early_server_which_stops_with_the_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "prefect")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    url = done.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/api")
    assert not listening(url), "the server outlived the command"
    assert (tmp_path / "prefect" / "prefect.db").exists()


def test_a_set_api_url_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    started: list[list[str]] = []
    monkeypatch.setattr(prefect_server, "_command", lambda port: started.append([str(port)]) or [])
    prefect_server.early_server(tmp_path)()
    assert started == [] and os.environ["PREFECT_API_URL"] == "http://prefect.example:4200/api"


def test_a_server_that_dies_at_start_is_reported_with_its_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(prefect_server, "_decided", lambda: False)
    monkeypatch.setattr(
        prefect_server,
        "_command",
        lambda port: [sys.executable, "-c", "import sys; print('no database here'); sys.exit(3)"],
    )
    ready = prefect_server.early_server(tmp_path, timeout=60)
    monkeypatch.delenv("PREFECT_API_URL")  # do not leave the dead URL to the rest of the session
    with pytest.raises(RuntimeError, match=r"exited with 3:\s+no database here"):
        ready()


@pytest.fixture
def template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "share" / "prefect-test.db"
    monkeypatch.setattr(prefect_server, "template_path", lambda: path)
    for name in prefect_server._DATABASE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return path


def test_a_new_home_starts_from_a_copy_of_the_template(template: Path, tmp_path: Path) -> None:
    template.parent.mkdir(parents=True)
    template.write_bytes(b"migrated")
    home = tmp_path / "home"
    assert prefect_server.seed_database(home)
    assert (home / "prefect.db").read_bytes() == b"migrated"
    assert sorted(p.name for p in home.iterdir()) == ["prefect.db"]  # no staged copy left behind


def test_an_existing_database_or_another_database_url_is_never_replaced(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template.parent.mkdir(parents=True)
    template.write_bytes(b"migrated")
    home = tmp_path / "home"
    home.mkdir()
    (home / "prefect.db").write_bytes(b"the runs so far")
    assert not prefect_server.seed_database(home)
    assert (home / "prefect.db").read_bytes() == b"the runs so far"
    other = tmp_path / "other"
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://db/prefect")
    assert not prefect_server.seed_database(other)
    assert not other.exists()


def test_without_a_template_the_server_migrates_as_prefect_does(template: Path, tmp_path: Path) -> None:
    assert not prefect_server.seed_database(tmp_path / "home")
    assert not (tmp_path / "home").exists()


@pytest.mark.slow
def test_the_template_is_prefects_own_migrated_database_built_once(template: Path) -> None:
    assert prefect_server.build_template() == template
    with sqlite3.connect(template) as db:
        (revision,) = db.execute("select version_num from alembic_version").fetchone()
        tables = {name for (name,) in db.execute("select name from sqlite_master where type = 'table'")}
    assert revision and {"flow", "flow_run", "deployment", "automation"} <= tables
    assert prefect_server.build_template() is None  # already there: nothing rebuilt
