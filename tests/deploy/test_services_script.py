"""`make up` / `make down` (scripts/services.py): what down says, who holds a taken port, the links."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.support.workspace import ROOT

SCRIPT = ROOT / "scripts" / "services.py"


def _services() -> ModuleType:
    spec = importlib.util.spec_from_file_location("services_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_down_with_nothing_started_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "down", "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "nothing to stop" in done.stdout


def test_down_stops_the_process_group_and_names_it(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(  # stands in for a service: its own session, as `up` starts them
        [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"], start_new_session=True
    )
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "worker.pid").write_text(f"{sleeper.pid}\n")
    (tmp_path / "run" / "api.pid").write_text("999999999\n")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "down", "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sleeper.wait(timeout=30) != 0
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["worker", "stopped"], "the worker stops first"
    assert "api" in lines[1] and "was not running" in lines[1]
    assert not list((tmp_path / "run").glob("*.pid"))


def test_a_taken_port_names_the_process_that_holds_it() -> None:
    services = _services()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert services.port_owner(port).startswith(f"pid {os.getpid()} (")
    assert services.port_owner(port) == ""


def test_the_links_open_the_views_a_newcomer_wants() -> None:
    links = _services().links()
    assert links["API docs"].endswith("/docs")
    assert links["MLflow model"].endswith("/#/models/titanic-survival")
    assert links["Prefect deployments"].endswith("/deployments")
