"""`make up` / `make down` (scripts/services.py): what down says, who holds a taken port, the links."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

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


LISTEN = """
import os, socket, sys, time
port, after = int(sys.argv[1]), sys.argv[2:]
deadline = time.monotonic() + 60
while after and not os.path.exists(after[0]):  # a service that answers only once that file exists
    if time.monotonic() > deadline:
        raise SystemExit("never told to listen")
    time.sleep(0.05)
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", port))
sock.listen()
time.sleep(600)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_worker_starts_once_prefect_answers_not_after_every_service(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    import pipelines.prefect_server

    services = _services()
    prefect, mlflow = _free_port(), _free_port()
    worker_pid = tmp_path / "run" / "worker.pid"
    # The stand-in for a slow service answers only after the worker has started: were the worker
    # started after every port answers, this `up` would wait out its timeout instead.
    fake = {
        "prefect": ([sys.executable, "-c", LISTEN, str(prefect)], prefect),
        "mlflow": ([sys.executable, "-c", LISTEN, str(mlflow), str(worker_pid)], mlflow),
    }
    monkeypatch.setattr(services, "services", lambda state, workspace: fake)
    monkeypatch.setattr(services, "prefect_port", lambda: prefect)
    monkeypatch.setattr(services, "worker_command", lambda workspace: [sys.executable, "-c", LISTEN, "0"])
    monkeypatch.setattr(pipelines.prefect_server, "seed_database", lambda home: None)
    try:
        assert services.up(tmp_path, tmp_path, 30.0, ["prefect", "mlflow", "worker"]) == 0
    finally:
        services.down(tmp_path)
    out = capsys.readouterr().out
    assert f"mlflow     http://127.0.0.1:{mlflow}" in out
    assert "not answering" not in out
    assert out.index("worker     monitor every") < out.index("mlflow     http://")


ON_TERM = """
import os, signal, sys, time
mine, other, clean = sys.argv[1:4]

def stop(*_):
    open(mine, "w").close()
    deadline = time.monotonic() + 8
    while other != "-" and not os.path.exists(other):  # stops cleanly only if the other got it too
        if time.monotonic() > deadline:
            raise SystemExit(1)
        time.sleep(0.05)
    open(clean, "w").close()
    raise SystemExit(0)

signal.signal(signal.SIGTERM, stop)
open(mine + ".ready", "w").close()
while True:
    time.sleep(1)
"""


def test_down_stops_the_services_after_the_worker_together(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    started = []
    for name, other in (("api", "mlflow"), ("mlflow", "-")):
        term = tmp_path / f"{name}.term"
        peer = "-" if other == "-" else str(tmp_path / f"{other}.term")
        process = subprocess.Popen(
            [sys.executable, "-c", ON_TERM, str(term), peer, str(tmp_path / f"{name}.clean")],
            start_new_session=True,
        )
        (run / f"{name}.pid").write_text(f"{process.pid}\n")
        started.append((process, term))
    for _, term in started:  # the handlers are installed before `down` signals
        deadline = time.monotonic() + 30
        while not Path(f"{term}.ready").exists():
            assert time.monotonic() < deadline and all(p.poll() is None for p, _ in started)
            time.sleep(0.05)
    subprocess.run([sys.executable, str(SCRIPT), "down", "--state", str(tmp_path)], check=True)
    for process, _ in started:
        process.wait(timeout=30)
    # The API's stand-in exits cleanly only once MLflow's was signalled too: one after the
    # other, it would wait for a signal that comes only after it has gone.
    assert (tmp_path / "api.clean").exists() and (tmp_path / "mlflow.clean").exists()
