"""The early Prefect server: started before the imports, used by the flow, gone with the process."""

from __future__ import annotations

import os
import socket
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
