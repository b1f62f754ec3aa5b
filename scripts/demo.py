"""`make demo`: the whole loop, from the upstream snapshot to a drift-retrained champion.

Runs on the state directory every other command reads (TITANIC_MLOPS_STATE_DIR, default .state),
started afresh (what it held moves to <state>.previous), with a private DVC workspace in
<state>/demo-workspace that the state names (`StateLayout.workspace_pointer`), so the checkout's
data/ and dvc.lock stay untouched and, after the demo, `status`, `predict`, `make up`,
`make down` and `monitor` all work on what it left. Pipeline -> API -> clean traffic (no action) ->
concept-drifted traffic with labels -> the monitor retrains through `dvc repro` and the gate ->
with `experiment.mode: shadow` (the default) the new version scores beside the champion while
more labelled windows arrive, until the online test promotes it (or rejects it) -> the API
serves the new champion. Since the loop drives itself, the demo starts the same stack
as `make up` (the worker monitors every DEMO_MONITOR_INTERVAL seconds, default 5), sends the
traffic and waits, printing each scheduled verdict as it lands; it never calls monitor or
retrain. Prints a summary and the deep links, and stops the stack unless KEEP=1.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTED = time.time()
PORTS = ("API", "MLFLOW", "EVIDENTLY", "PREFECT")
CONSOLE = Console(stderr=True)  # live status lines; the record of the run stays on stdout
WORKER_LOG = Path("<state>/logs/worker.log")
WINDOW_ROWS = 150  # passengers per window of traffic
POLL_SECONDS = 0.2  # how often a wait reads its condition (a store read): 1 s cost ~0.5 s per wait
KEPT = "dvc-remote"  # the checkout's DVC remote (StateLayout.dvc_remote), not the demo's to move


def say(text: str) -> None:
    print(f"[{time.time() - STARTED:6.1f}s] {text}", flush=True)  # noqa: T201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def served(url: str) -> str:
    import httpx

    return str(httpx.get(f"{url}/ready", timeout=5).json().get("model_version"))


def fresh_state(state: Path) -> None:
    """Every demo starts from the snapshot: a state in use is refused, a used one moved aside.

    The checkout's DVC remote (`make setup` keeps it in the state) stays where it is.
    """
    run = state / "run"
    alive = [p.stem for p in run.glob("*.pid") if _alive(p)] if run.exists() else []
    if alive:
        running = ", ".join(alive)
        raise SystemExit(f"demo: {running} run on {state} (`make up`); stop them with `make down` first")
    used = [p for p in state.iterdir() if p.name != KEPT] if state.exists() else []
    if used:
        previous = state.with_name(state.name + ".previous")
        if previous.exists():
            shutil.rmtree(previous)
        previous.mkdir()
        for entry in used:
            entry.rename(previous / entry.name)
        say(f"the state directory's earlier contents moved to {previous}")
    state.mkdir(parents=True, exist_ok=True)


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def main() -> int:
    from titanic_mlops.config.layout import StateLayout

    state = Path(os.environ.get("TITANIC_MLOPS_STATE_DIR", ROOT / ".state")).resolve()
    fresh_state(state)
    work = state / "demo-workspace"
    env = {
        "TITANIC_MLOPS_STATE_DIR": str(state),
        "TITANIC_MLOPS_FEATURE_REPO": str(work / "feature_repo"),
        "PREFECT_HOME": str(state / "prefect"),
        # The API looks for a new champion every second (a registry read; 5 s by default).
        "TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS": os.environ.get("TITANIC_MLOPS_RELOAD_INTERVAL_SECONDS", "1"),
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

    say(f"1/7 workspace {work} (a DVC copy of the pipeline; remote {state / 'demo-dvc-remote'})")
    create_dvc_workspace(work, ROOT, state / "demo-dvc-remote")
    # What the CLI and make follow; relative, so a copy of the state follows its own workspace.
    StateLayout(state).workspace_pointer.write_text(f"{work.relative_to(state)}\n")
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    pipeline_log = logs / "pipeline.log"
    ports = {name: os.environ.get(f"{name}_PORT", str(free_port())) for name in PORTS}
    os.environ.update({f"{name}_PORT": port for name, port in ports.items()})
    os.environ["TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS"] = os.environ.get("DEMO_MONITOR_INTERVAL", "5")
    # The runner asks for due runs every second (a read of the Prefect server; 2 s in `make up`).
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
    stack = [str(BIN / "python"), str(ROOT / "scripts" / "services.py")]
    up = [*stack, "up", "--state", str(state), "--workspace", str(work)]
    say(f"2/7 pipeline: dvc repro (ingest, validate, features, train, promote); log {pipeline_log}")
    run_logged("dvc repro", [str(BIN / "dvc"), "repro"], work, pipeline_log)
    say(f"3/7 the stack: API, MLflow, Evidently, Prefect and the loop's worker; logs in {logs}")
    subprocess.run(up, check=True)
    global WORKER_LOG
    WORKER_LOG = logs / "worker.log"
    try:
        return run_loop(state, f"http://127.0.0.1:{ports['API']}")
    finally:
        if os.environ.get("KEEP") == "1":
            say("KEEP=1: the stack keeps running; stop it with: make down")
        else:
            subprocess.run([*stack, "down", "--state", str(state)], check=False)
            say("stack stopped")


def run_logged(what: str, command: list[str], cwd: Path, log_path: Path) -> None:
    """A long step: its output in `log_path`, a live line of what runs and for how long."""
    started = time.time()
    with log_path.open("w") as log, CONSOLE.status(what) as status:
        process = subprocess.Popen(command, cwd=cwd, env=os.environ, stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:
            status.update(f"{what}: {time.time() - started:.0f} s (log {log_path})")
            time.sleep(0.5)
    if process.returncode != 0:
        raise SystemExit(f"demo: {what} failed (exit {process.returncode}); see {log_path}")
    say(f"  {what} done in {time.time() - started:.0f} s")


def wait_until(what: str, condition: Any, seconds: float) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `seconds`.

    A live line says what the demo waits for and for how long (rich), the worker's log beside it.
    """
    started = time.time()
    with CONSOLE.status(f"waiting for {what}") as status:
        while time.time() < started + seconds:
            with contextlib.suppress(Exception):
                value = condition()
                if value:
                    return value
            status.update(f"waiting for {what}: {time.time() - started:.0f} s (the loop's log: {WORKER_LOG})")
            time.sleep(POLL_SECONDS)
    raise SystemExit(f"demo: no {what} within {seconds:.0f} s; see {WORKER_LOG}")


def cycles_after(state: Path, last_id: int) -> list[Any]:
    """The monitoring cycles recorded (by the worker) that judged predictions past `last_id`."""
    from titanic_mlops.services.deployment import Deployment, opened_monitoring

    with opened_monitoring(Deployment()) as store:
        return [c for c in store.cycles(None) if c.window_ids and c.window_ids[1] > last_id]


def verdict(state: Path, last_id: int, seconds: float = 300) -> dict[str, Any]:
    """Wait for the loop to judge the window ending past `last_id`, and print the verdict."""
    cycle = wait_until("monitoring verdict", lambda: cycles_after(state, last_id), seconds)[-1]
    accuracy = cycle.live_accuracy
    say(
        f"  monitor (scheduled): window {cycle.window_ids}, drift share {cycle.drift_share:.2f} "
        f"({cycle.drifted_columns} columns), live accuracy "
        f"{accuracy if accuracy is None else round(accuracy, 3)} -> action {cycle.action}"
    )
    return dict(cycle.model_dump(mode="json"))


def newest_id() -> int:
    from titanic_mlops.services.deployment import Deployment, opened_log

    with opened_log(Deployment()) as log:
        window = log.window(after_id=0)
    return int(window["id"].max()) if len(window) else 0


def retraining(state: Path, seconds: float = 900) -> Any:
    from titanic_mlops.domain.records import RetrainingEvent
    from titanic_mlops.stores import history

    def done() -> Any:
        return next(
            (e for e in history.read(state / "history.jsonl") if isinstance(e, RetrainingEvent)), None
        )

    return wait_until("retraining in the history", done, seconds)


def run_loop(state: Path, url: str) -> int:
    wait_until("API ready", lambda: served(url) not in ("None", ""), 300)
    before = served(url)
    say(f"  serving champion v{before}")
    say("4/7 clean traffic (the training distribution): the scheduled monitor judges it, no retraining")
    mark = newest_id()
    traffic(url, "none", seed=1, rows=WINDOW_ROWS)
    clean = verdict(state, mark)
    say("5/7 concept drift with ground truth (the silver voyage): two windows; the loop retrains by itself")
    mark = newest_id()
    traffic(url, "concept", seed=2, rows=WINDOW_ROWS)
    first = verdict(state, mark)
    mark = newest_id()
    traffic(url, "concept", seed=3, rows=WINDOW_ROWS)
    second = verdict(state, mark)
    say("  titanic.drift.detected -> the retrain deployment: batch -> dvc repro -> gate (worker log)")
    event = retraining(state)
    say(
        f"  gate: promoted={event.promoted} version {event.new_version} "
        f"(event {event.origin.event_id if event.origin else '-'})"
    )
    if not event.promoted and event.new_version and experimenting(state) == event.new_version:
        shadow(state, url, str(event.new_version), before)
    else:
        say("6/7 no online experiment (experiment.mode off): the gate moved the champion alias")
    say("7/7 the API follows the champion alias")
    wait_until("new champion served", lambda: served(url) == event.new_version, 120)
    after = served(url)
    summary(state, before, after, [clean, first, second])
    links()
    ok = clean["action"] == "none" and second["action"] == "retrain" and after == event.new_version
    return 0 if ok else 1


def experimenting(state: Path) -> str | None:
    from titanic_mlops.services import experiment

    return experiment.testing(state)


def experiment_view(state: Path) -> dict[str, Any]:
    from titanic_mlops.services import experiment_cycle

    return experiment_cycle.status(state) or {}


def shadow(state: Path, url: str, challenger: str, champion: str) -> None:
    """The online A/B test: labelled concept windows until the monitoring cycle's look decides."""
    say(
        f"6/7 shadow: v{challenger} scores every request beside v{champion}, which still answers; "
        "labelled traffic until the online test decides"
    )
    wait_until("the challenger in shadow", lambda: shadow_version(url) == challenger, 120)
    shown = experiment_view(state)
    say(f"  planned: {shown.get('required_rows')} labelled rows (power analysis of params.yaml experiment:)")
    for seed in range(10, 30):
        mark, seen = newest_id(), shown.get("labelled_rows") or 0
        traffic(url, "concept", seed=seed, rows=shadow_rows(shown))
        verdict(state, mark)
        shown = wait_until("the experiment's look", lambda seen=seen: looked(state, seen), 120)
        say(
            f"  experiment: {shown['labelled_rows']} of {shown['required_rows']} labelled rows, champion "
            f"{_fmt(shown.get('champion_accuracy'))} vs challenger {_fmt(shown.get('challenger_accuracy'))}, "
            f"p={_fmt(shown.get('p_value'))} -> {shown['decision']}"
        )
        if shown["decision"] != "continue":
            say(f"  {shown['reason']}")
            return
    raise SystemExit("demo: the online experiment did not decide within 20 windows")


def shadow_rows(shown: dict[str, Any], window: int = WINDOW_ROWS) -> int:
    """The labelled rows the plan still lacks, sent as one window (at least `window` rows).

    The online test is fixed-horizon (it decides once `required_rows` are labelled, never on an
    early peek), so windows smaller than what is missing only add monitoring cycles to wait for.
    """
    missing = int(shown.get("required_rows") or 0) - int(shown.get("labelled_rows") or 0)
    return max(window, missing)


def looked(state: Path, seen: int) -> dict[str, Any] | None:
    """The experiment's view once a look past `seen` labelled rows (or a decision) landed."""
    shown = experiment_view(state)
    moved = (shown.get("labelled_rows") or 0) > seen or shown.get("decision") != "continue"
    return shown if shown and moved else None


def shadow_version(url: str) -> str | None:
    import httpx

    experiment = httpx.get(f"{url}/model", timeout=5).json().get("experiment") or {}
    return (experiment.get("challenger") or {}).get("version")


def links() -> None:
    spec = importlib.util.spec_from_file_location("services_script", ROOT / "scripts" / "services.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kept = os.environ.get("KEEP") == "1"
    stays = "the stack keeps running" if kept else "live while the stack runs: make demo KEEP=1"
    sys.stdout.write(f"\nopen ({stays}):\n")
    for label, link in module.links().items():
        sys.stdout.write(f"  {label:<20} {link}\n")


def summary(state: Path, before: str, after: str, cycles: list[dict[str, Any]]) -> None:
    from titanic_mlops.domain.experiment_records import ExperimentEvent
    from titanic_mlops.domain.records import PromotionEvent
    from titanic_mlops.stores import history

    events = history.read(state / "history.jsonl")
    # The gate's decision (the one with metrics; an online test's promotion carries none).
    promotion = next((e for e in reversed(events) if isinstance(e, PromotionEvent) and e.metrics), None)
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
    online = next((e for e in reversed(events) if isinstance(e, ExperimentEvent)), None)
    if online is not None:
        out.write(
            f"online test ({online.mode}): {online.labelled_rows} labelled rows, champion "
            f"{_fmt(online.champion_accuracy)} vs challenger {_fmt(online.challenger_accuracy)}, "
            f"difference {_fmt(online.difference)} [{_fmt(online.ci_low)}, {_fmt(online.ci_high)}], "
            f"p={_fmt(online.p_value)} -> {online.decision}\n"
        )
    out.write(f"reports: {state / 'reports'}  (Evidently workspace {state / 'evidently'})\n")
    out.write(f"history: {state / 'history.jsonl'}  (titanic-mlops status --json)\n")
    out.write(f"logs: {state / 'logs'}  (worker.log: the loop's flow runs)\n\nexplore:\n")
    out.write("  make demo KEEP=1   # leaves the stack running; then: make down\n")
    out.write("  .venv/bin/titanic-mlops status   # and every README row: they read this state\n")
    say("demo done")


def _fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.4f}"  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
