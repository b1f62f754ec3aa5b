"""`make up` / `make down`: the API and the three dashboards on the embedded state.

Each service runs in its own session with its pid in <state>/run/<name>.pid and its output in
<state>/logs/<name>.log; `down` stops exactly the process groups those pid files name.
Ports come from the environment (API_PORT, MLFLOW_PORT, EVIDENTLY_PORT, PREFECT_PORT).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def services(state: Path, workspace: Path) -> dict[str, tuple[list[str], int]]:
    port = {
        name: int(os.environ.get(f"{name.upper()}_PORT", default))
        for name, default in (("api", 8000), ("mlflow", 5000), ("evidently", 8001), ("prefect", 4200))
    }
    tracking = os.environ.get("TITANIC_MLOPS_TRACKING_URI", f"sqlite:///{state / 'mlflow' / 'mlflow.db'}")
    return {
        "api": (
            [str(BIN / "titanic-mlops"), "serve", "--host", "127.0.0.1", "--port", str(port["api"])],
            port["api"],
        ),
        "mlflow": (
            [
                str(BIN / "mlflow"),
                "ui",
                "--backend-store-uri",
                tracking,
                "--default-artifact-root",
                str(state / "mlflow" / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port["mlflow"]),
                "--workers",
                "1",
            ],
            port["mlflow"],
        ),
        "evidently": (
            [
                str(BIN / "evidently"),
                "ui",
                "--workspace",
                str(state / "evidently"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port["evidently"]),
            ],
            port["evidently"],
        ),
        "prefect": (
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port["prefect"])],
            port["prefect"],
        ),
    }


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def up(state: Path, workspace: Path, timeout: float, only: list[str]) -> int:
    run, logs = state / "run", state / "logs"
    run.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    (state / "evidently").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(state / "prefect")),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Evidently and DVC telemetry
    }
    started: dict[str, int] = {}
    for name, (command, port) in services(state, workspace).items():
        if only and name not in only:
            continue
        pid_file = run / f"{name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            print(f"  {name:<10} already running (pid {pid_file.read_text().strip()})")  # noqa: T201
            continue
        if listening(port):
            print(f"  {name:<10} port {port} is taken by another process; not started")  # noqa: T201
            continue
        with (logs / f"{name}.log").open("a") as log:
            process = subprocess.Popen(
                command, cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        pid_file.write_text(f"{process.pid}\n")
        started[name] = port
    deadline = time.time() + timeout
    pending = dict(started)
    while pending and time.time() < deadline:
        for name, port in list(pending.items()):
            if listening(port):
                print(f"  {name:<10} http://127.0.0.1:{port}")  # noqa: T201
                del pending[name]
        time.sleep(0.5)
    for name, port in pending.items():
        print(f"  {name:<10} not answering on {port} yet; see {logs / (name + '.log')}")  # noqa: T201
    return 0


def down(state: Path) -> int:
    for pid_file in sorted((state / "run").glob("*.pid")):
        pid = int(pid_file.read_text())
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)  # the session `up` created for this service
            for _ in range(40):
                if not _alive(pid):
                    break
                time.sleep(0.25)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        print(f"  {pid_file.stem:<10} stopped (pid {pid})")  # noqa: T201
        pid_file.unlink()
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument(
        "--state", type=Path, default=Path(os.environ.get("TITANIC_MLOPS_STATE_DIR", ".state"))
    )
    parser.add_argument(
        "--workspace", type=Path, default=Path.cwd(), help="where the API finds feature_repo/"
    )
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the ports")
    parser.add_argument("--only", default="", help="comma-separated subset of api,mlflow,evidently,prefect")
    args = parser.parse_args()
    state = args.state.resolve()
    if args.action == "down":
        return down(state)
    return up(state, args.workspace.resolve(), args.timeout, [n for n in args.only.split(",") if n])


if __name__ == "__main__":
    raise SystemExit(main())
