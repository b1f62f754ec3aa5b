"""A temporary Prefect server for one command, started first so its start-up overlaps the imports.

Without PREFECT_API_URL, Prefect starts a temporary server at the first flow call and waits for
it (~10 s on two cores: its imports and, on a new PREFECT_HOME, its database migrations) before
the flow runs. This starts the same server, the same way, as the command's first act; it comes up
while the command imports pandas, scikit-learn and MLflow, so a cold `dvc repro` waits seconds
less. Child processes (the `dvc repro` of a retraining) inherit PREFECT_API_URL and reuse it.

Nothing here imports Prefect: that is the point. Where PREFECT_API_URL is already set (a real
server, or the parent's) or Prefect is already imported (its settings are fixed by then), the
command keeps Prefect's own behaviour.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

Ready = Callable[[], None]


def _decided() -> bool:
    """PREFECT_API_URL is set, or Prefect is imported already (its settings are fixed by then)."""
    return bool(os.environ.get("PREFECT_API_URL")) or "prefect" in sys.modules


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(port: int) -> list[str]:
    """What Prefect's own SubprocessASGIServer runs (prefect/server/api/server.py)."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise RuntimeError("prefect is not installed")
    app_dir = str(Path(spec.origin).parent.parent)
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", app_dir,
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
    ]  # fmt: skip


def _wait(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:]
            raise RuntimeError(f"the temporary Prefect server exited with {process.returncode}:\n{tail}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{url}/health", timeout=2) as answer,  # noqa: S310  # nosec B310
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:.0f} s ({log})")


def early_server(home: Path, timeout: float = 180.0) -> Ready:
    """Start the server now; call the returned function before the first flow.

    The server stops at interpreter exit, after Prefect's own exit handlers (registered later,
    run earlier) have sent their last logs and events to it, as with Prefect's temporary server.
    """
    if _decided():
        return lambda: None
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = home / "temporary-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    # The same switches Prefect gives its temporary server: no UI, an ephemeral server's services.
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(_command(port), env=env, stdout=out, stderr=subprocess.STDOUT)
    atexit.register(_stop, process)
    os.environ["PREFECT_API_URL"] = url
    waited: list[bool] = []

    def ready() -> None:
        if not waited:
            _wait(process, url, log, timeout)
            waited.append(True)

    return ready


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
