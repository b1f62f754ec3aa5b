"""`make demo`: the whole loop, from the upstream snapshot to a drift-retrained champion.

Runs in <state>/demo (a private DVC workspace and its own state, rebuilt each time), so the
checkout's data/ and dvc.lock stay untouched: pipeline -> API -> clean traffic (no action) ->
concept-drifted traffic with labels -> the monitor retrains through `dvc repro` and the gate ->
the API serves the new champion. Prints a summary and stops everything it started.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTED = time.time()


def say(text: str) -> None:
    print(f"[{time.time() - STARTED:6.1f}s] {text}", flush=True)  # noqa: T201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*argv: str) -> dict[str, Any]:
    """A subcommand in this process (one Prefect server for every flow); its last JSON line."""
    from titanic_mlops.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    if code != 0:
        raise SystemExit(f"titanic-mlops {argv[0]} failed (exit {code})")
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def traffic(url: str, scenario: str, seed: int, rows: int) -> None:
    from titanic_mlops.adapters import api_client
    from titanic_mlops.domain import scenarios, traffic
    from titanic_mlops.services import ingest

    snapshot = ingest.read_raw_csv(ROOT / "data/external/titanic/train.csv", labelled=True)
    result = api_client.send(url, traffic.draw(snapshot, scenarios.get(scenario), rows, seed), scenario)
    say(
        f"  {scenario}: {result.predicted} predictions, {result.labelled} labels, "
        f"{result.failed_requests} failed"
    )


def monitor(work: Path) -> dict[str, Any]:
    result = cli("monitor", "--json", "--workspace", str(work))
    accuracy = result.get("live_accuracy")
    say(
        f"  monitor: drift share {result['drift_share']:.2f} ({result['drifted_columns']} columns), "
        f"live accuracy {accuracy if accuracy is None else round(accuracy, 3)} -> action {result['action']}"
    )
    return result


def served(url: str) -> str:
    import httpx

    return str(httpx.get(f"{url}/ready", timeout=5).json().get("model_version"))


def main() -> int:
    state_root = Path(os.environ.get("TITANIC_MLOPS_STATE_DIR", ROOT / ".state")).resolve()
    demo = state_root / "demo"
    work, state = demo / "workspace", demo / "state"
    if demo.exists():
        shutil.rmtree(demo)  # only the demo's own folder: every demo starts from the snapshot
    env = {
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "TITANIC_MLOPS_FEATURE_REPO": str(work / "feature_repo"),
        "PREFECT_HOME": str(state / "prefect"),
        "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": "2",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Evidently and DVC telemetry
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    os.environ.update(env)
    for key in (
        "TITANIC_MLOPS_TRACKING_URI",
        "TITANIC_MLOPS_ARTIFACT_ROOT",
        "TITANIC_MLOPS_PREDICTION_LOG_URL",
    ):
        os.environ.pop(key, None)
    from titanic_mlops.services.workspace import create_dvc_workspace

    say(f"1/6 workspace {work} (a DVC copy of the pipeline; remote {demo / 'dvc-remote'})")
    create_dvc_workspace(work, ROOT, demo / "dvc-remote")
    say("2/6 pipeline: dvc repro (ingest, validate, features, train, promote)")
    (state / "logs").mkdir(parents=True, exist_ok=True)
    with (state / "logs" / "pipeline.log").open("w") as log:
        subprocess.run(
            [str(BIN / "dvc"), "repro"], cwd=work, env=os.environ, stdout=log, stderr=log, check=True
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    say(f"3/6 API on {url}")
    with (state / "logs" / "api.log").open("w") as log:
        api = subprocess.Popen(
            [str(BIN / "titanic-mlops"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        return run_loop(work, state, url, api)
    finally:
        api.terminate()
        api.wait(timeout=30)
        say("API stopped")


def run_loop(work: Path, state: Path, url: str, api: subprocess.Popen[bytes]) -> int:
    import httpx

    for _ in range(180):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        if api.poll() is not None:
            raise SystemExit(f"the API exited; see {state / 'logs' / 'api.log'}")
        time.sleep(1)
    before = served(url)
    say(f"  serving champion v{before}")
    say("4/6 clean traffic (the training distribution): no retraining expected")
    traffic(url, "none", seed=1, rows=150)
    clean = monitor(work)
    say("5/6 concept drift with ground truth (the silver voyage): two windows, then retraining")
    traffic(url, "concept", seed=2, rows=150)
    first = monitor(work)
    traffic(url, "concept", seed=3, rows=150)
    say("  retraining: new feedback batch -> dvc repro -> gate (about a minute)")
    second = monitor(work)
    say(f"  gate: promoted={second.get('promoted')} version {second.get('new_version')}")
    say("6/6 the API follows the champion alias")
    deadline = time.time() + 60
    while time.time() < deadline and served(url) != second.get("new_version"):
        time.sleep(1)
    after = served(url)
    summary(work, state, before, after, [clean, first, second])
    ok = clean["action"] == "none" and second["action"] == "retrain" and after == second.get("new_version")
    return 0 if ok else 1


def summary(work: Path, state: Path, before: str, after: str, cycles: list[dict[str, Any]]) -> None:
    from titanic_mlops.domain.records import PromotionEvent
    from titanic_mlops.stores import history

    events = history.read(state / "history.jsonl")
    promotion = next((e for e in reversed(events) if isinstance(e, PromotionEvent)), None)
    metrics = {} if promotion is None else promotion.model_dump(mode="json")["metrics"]
    out = sys.stdout
    out.write("\n== summary ==\n")
    out.write(f"| {'':<26} | {'before':>10} | {'after':>10} |\n|{'-' * 28}|{'-' * 12}|{'-' * 12}|\n")
    out.write(f"| {'champion version':<26} | {before:>10} | {after:>10} |\n")
    for name in ("holdout", "recent"):
        pair = metrics.get(name, {})
        for metric in ("accuracy", "roc_auc"):
            old = (pair.get("champion") or {}).get(metric)
            new = (pair.get("challenger") or {}).get(metric)
            out.write(f"| {name + ' ' + metric:<26} | {_fmt(old):>10} | {_fmt(new):>10} |\n")
    out.write("\n| cycle | drift share | live accuracy | action |\n|---|---|---|---|\n")
    for label, cycle in zip(("clean", "concept 1", "concept 2"), cycles, strict=True):
        out.write(
            f"| {label} | {cycle['drift_share']:.2f} | {_fmt(cycle.get('live_accuracy'))} "
            f"| {cycle['action']} |\n"
        )
    out.write(f"\nreason: {cycles[-1].get('reason')}\n")
    out.write(f"reports: {state / 'reports'}  (Evidently workspace {state / 'evidently'})\n")
    out.write(f"history: {state / 'history.jsonl'}  (titanic-mlops status --json)\n")
    out.write(f"feedback batch: {work / 'data' / 'feedback'}\n\nexplore:\n")
    out.write(f"  make up TITANIC_MLOPS_STATE_DIR={state} WORKSPACE={work}\n")
    out.write("  # API :8000, MLflow :5000, Evidently :8001, Prefect :4200; `make down` (same variables)\n")
    out.write(f"  TITANIC_MLOPS_STATE_DIR={state} .venv/bin/titanic-mlops status\n")
    say("demo done")


def _fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.4f}"  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
