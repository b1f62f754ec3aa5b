"""A temporary Prefect server for one command, started first so its start-up overlaps the imports.

Without PREFECT_API_URL, Prefect starts a temporary server at the first flow call and waits for
it (~10 s on two cores: its imports and, on a new PREFECT_HOME, its database migrations) before
the flow runs. This starts the same server, the same way, as the command's first act; it comes up
while the command imports pandas, scikit-learn and MLflow, so a cold `dvc repro` waits seconds
less. Child processes (the `dvc repro` of a retraining) inherit PREFECT_API_URL and reuse it.

Nothing here imports Prefect: that is the point. Where PREFECT_API_URL is already set (a real
server, or the parent's) or Prefect is already imported (its settings are fixed by then), the
command keeps Prefect's own behaviour.

A new PREFECT_HOME would first run every one of Prefect's database migrations (~10 s of a cold
`dvc repro` on two cores). Its schema depends only on the Prefect version, so `make setup`
migrates one empty database per environment (`python -m pipelines.prefect_server --template`,
with Prefect's own `prefect server database upgrade`), and a new home starts from a copy of it.
Prefect still checks the copy at start and migrates it if the version moved on.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
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


# Set, the server's database is not the home's SQLite file, and no template applies.
_DATABASE_SETTINGS = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")


def template_path() -> Path:
    """This environment's migrated empty database, named by the Prefect version it was built with."""
    version = importlib.metadata.version("prefect")
    return Path(sys.prefix) / "share" / "titanic-mlops" / f"prefect-{version}.db"


def build_template() -> Path | None:
    """Migrate an empty database with Prefect's own CLI and keep it as the template (once)."""
    target = template_path()
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        env = {k: v for k, v in os.environ.items() if k not in _DATABASE_SETTINGS}
        env["PREFECT_HOME"] = scratch
        prefect = Path(sys.executable).parent / "prefect"
        subprocess.run(
            [str(prefect), "server", "database", "upgrade", "-y"], env=env, check=True, capture_output=True
        )
        (Path(scratch) / "prefect.db").replace(target)  # whole or absent: never half a database
    return target


def seed_database(home: Path) -> bool:
    """Give a new home (no database yet) a copy of the template; True when it did."""
    database = home / "prefect.db"
    template = template_path()
    if any(os.environ.get(name) for name in _DATABASE_SETTINGS) or database.exists() or not template.exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(f".{database.name}.{os.getpid()}")
    shutil.copyfile(template, staged)
    staged.replace(database)
    return True


def early_server(home: Path, timeout: float = 180.0) -> Ready:
    """Start the server now; call the returned function before the first flow.

    The server stops at interpreter exit, after Prefect's own exit handlers (registered later,
    run earlier) have sent their last logs and events to it, as with Prefect's temporary server.
    """
    if _decided():
        return lambda: None
    seed_database(home)
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


def main() -> int:
    parser = argparse.ArgumentParser(description="The temporary Prefect server's database template.")
    parser.add_argument("--template", action="store_true", help="migrate the template (when missing)")
    args = parser.parse_args()
    if args.template:
        built = build_template()
        if built is not None:
            print(f"setup: migrated Prefect's database template once for this environment ({built})")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
