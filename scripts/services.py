"""`make up` / `make down`: the API, the three dashboards and the loop's worker on the embedded state.

Each service runs in its own session with its pid in <state>/run/<name>.pid and its output in
<state>/logs/<name>.log; `down` stops exactly the process groups those pid files name and says
which. The worker (`titanic-mlops worker`: the scheduled `monitor` and the drift-triggered
`retrain` Prefect deployments) starts once the Prefect server answers, pointed at it.
Ports come from the environment (API_PORT, MLFLOW_PORT, EVIDENTLY_PORT, PREFECT_PORT); a port
that is taken is reported with the process that holds it, when /proc tells.
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

from rich.console import Console

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


def worker_command(workspace: Path) -> list[str]:
    return [str(BIN / "titanic-mlops"), "worker", "--workspace", str(workspace)]


def prefect_port() -> int:
    return int(os.environ.get("PREFECT_PORT", 4200))


def links() -> dict[str, str]:
    """Deep links into each UI: the view a newcomer wants first, not the landing page."""
    port = {
        name: int(os.environ.get(f"{name.upper()}_PORT", default))
        for name, default in (("api", 8000), ("mlflow", 5000), ("evidently", 8001), ("prefect", 4200))
    }
    model = os.environ.get("TITANIC_MLOPS_MODEL_NAME", "titanic-survival")
    return {
        "API docs": f"http://127.0.0.1:{port['api']}/docs",
        "MLflow model": f"http://127.0.0.1:{port['mlflow']}/#/models/{model}",
        "MLflow runs": f"http://127.0.0.1:{port['mlflow']}/#/experiments",
        "Evidently": f"http://127.0.0.1:{port['evidently']}/",
        "Prefect runs": f"http://127.0.0.1:{port['prefect']}/runs",
        "Prefect deployments": f"http://127.0.0.1:{port['prefect']}/deployments",
        "Prefect automations": f"http://127.0.0.1:{port['prefect']}/automations",
    }


def port_owner(port: int) -> str:
    """`pid 123 (prefect)` for the process listening on `port`, from /proc; '' when it cannot tell."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if fd.readlink().name.removeprefix("socket:[").removesuffix("]") in inodes:
                    cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {proc.name} ({cmd.strip()[:80]})"
    return ""


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
        # The API looks for a new champion every 2 s here (5 s by default): on a laptop the swap
        # is part of the loop's latency, and a poll is one registry read. Set it to override.
        "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": "2",
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(state / "prefect")),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Evidently and DVC telemetry
    }
    print(f"  {'workspace':<10} {workspace}")  # noqa: T201
    if not only or "prefect" in only:
        from pipelines.prefect_server import seed_database

        seed_database(Path(env["PREFECT_HOME"]))  # a new state's server starts from the migrated template
    started: dict[str, int] = {}
    for name, (command, port) in services(state, workspace).items():
        if only and name not in only:
            continue
        pid_file = run / f"{name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            print(f"  {name:<10} already running (pid {pid_file.read_text().strip()})")  # noqa: T201
            continue
        if listening(port):
            owner = port_owner(port) or "another process"
            print(f"  {name:<10} port {port} is taken by {owner}; not started")  # noqa: T201
            continue
        with (logs / f"{name}.log").open("a") as log:
            process = subprocess.Popen(
                command, cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        pid_file.write_text(f"{process.pid}\n")
        started[name] = port
    begun = time.time()
    deadline = begun + timeout
    pending = dict(started)
    # A live line (rich, on stderr) says what is still starting and for how long; the record stays on stdout.
    # The worker needs only the Prefect server: it starts as soon as that answers, so its
    # deployments register while the API loads its model and MLflow starts.
    worker = not only or "worker" in only
    with Console(stderr=True).status("starting") as live:
        while pending and time.time() < deadline:
            for name, port in list(pending.items()):
                if listening(port):
                    print(f"  {name:<10} http://127.0.0.1:{port}", flush=True)  # noqa: T201
                    del pending[name]
            if worker and "prefect" not in pending:
                start_worker(run, logs, workspace, env)
                worker = False
            live.update(f"waiting for {', '.join(pending)}: {time.time() - begun:.0f} s (logs in {logs})")
            time.sleep(0.2)
    for name, port in pending.items():
        print(f"  {name:<10} not answering on {port} yet; see {logs / (name + '.log')}")  # noqa: T201
    if worker:
        start_worker(run, logs, workspace, env)
    for label, link in links().items():
        print(f"  {label:<20} {link}")  # noqa: T201
    return 0


def start_worker(run: Path, logs: Path, workspace: Path, env: dict[str, str]) -> None:
    """The loop's worker, once the Prefect server answers (its deployments register there)."""
    pid_file = run / "worker.pid"
    if pid_file.exists() and _alive(int(pid_file.read_text())):
        print(f"  {'worker':<10} already running (pid {pid_file.read_text().strip()})")  # noqa: T201
        return
    if not listening(prefect_port()):
        print(f"  {'worker':<10} not started: no Prefect server on {prefect_port()}")  # noqa: T201
        return
    # The runner asks for new runs every 2 s (Prefect's default 10 s would dominate the loop's latency).
    worker_env = {
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        **env,
        "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port()}/api",
    }
    with (logs / "worker.log").open("a") as log:
        process = subprocess.Popen(
            worker_command(workspace),
            cwd=workspace,
            env=worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    interval = env.get("TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS", "300")
    print(f"  {'worker':<10} monitor every {interval} s, retrain on drift (log {logs / 'worker.log'})")  # noqa: T201


def down(state: Path) -> int:
    """Stop every service a `make up` on this state started, the worker first (it uses the others).

    The worker's shutdown pauses its schedule on the Prefect server, so the others stop once it
    has; they need nothing of each other, so they are signalled together, not each after the
    last has gone.
    """
    pid_files = sorted((state / "run").glob("*.pid"), key=lambda p: (p.stem != "worker", p.stem))
    if not pid_files:
        print(f"  nothing to stop: no pid files in {state / 'run'}")  # noqa: T201
    first = [p for p in pid_files if p.stem == "worker"]
    for group in (first, [p for p in pid_files if p.stem != "worker"]):
        pids = {p: int(p.read_text()) for p in group}
        running = {p: pid for p, pid in pids.items() if _alive(pid)}
        for pid in running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)  # the session `up` created for this service
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in running.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid_file, pid in pids.items():
            if pid_file in running:
                if _alive(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                print(f"  {pid_file.stem:<10} stopped (pid {pid})")  # noqa: T201
            else:
                print(f"  {pid_file.stem:<10} was not running (stale pid {pid})")  # noqa: T201
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
        "--workspace",
        type=Path,
        default=None,
        help="the DVC workspace: where the API finds feature_repo/ and the worker runs `dvc repro` "
        "(default: the current directory, or the demo's after `make demo`)",
    )
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the ports")
    parser.add_argument(
        "--only", default="", help="comma-separated subset of api,mlflow,evidently,prefect,worker"
    )
    args = parser.parse_args()
    state = args.state.resolve()
    if args.action == "down":
        return down(state)
    from titanic_mlops.config.layout import StateLayout, chosen_workspace
    from titanic_mlops.services import relocation

    relocation.settle(StateLayout(state))  # the MLflow UI opens the database without the project's code
    workspace = chosen_workspace(args.workspace, StateLayout(state)).resolve()
    return up(state, workspace, args.timeout, [n for n in args.only.split(",") if n])


if __name__ == "__main__":
    raise SystemExit(main())
