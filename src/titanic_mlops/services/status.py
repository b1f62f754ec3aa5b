"""What the registry holds now and what the loop decided: `titanic-mlops status`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from titanic_mlops.domain.versions import CHALLENGER, CHAMPION
from titanic_mlops.services import experiment_cycle
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import MonitoringStore


class RegistrySource(NamedTuple):
    """Where `status` reads the registry: the store, the model, and what each alias points at
    (the deployment's saved view or a live read, asked only when shown)."""

    tracking_uri: str
    model_name: str
    versions: Callable[[], Mapping[str, Any]]


def collect(
    registry: RegistrySource | None,
    history_path: Path,
    open_monitoring: Callable[[], MonitoringStore],
    missing_store: Path | None = None,
) -> dict[str, Any]:
    """Everything `status` shows. `registry` is None when the embedded tracking database
    (`missing_store`) does not exist yet: a read-only command reports that, it never creates it."""
    payload: dict[str, Any] = {}
    if registry is None:
        payload["tracking"] = f"no MLflow database at {missing_store} yet: run `dvc repro` (or `make demo`)"
        payload.update({CHAMPION: None, CHALLENGER: None})
    else:
        payload.update(tracking_uri=registry.tracking_uri, model_name=registry.model_name)
        described = registry.versions()
        payload.update({alias: described.get(alias) for alias in (CHAMPION, CHALLENGER)})
    payload["history"] = [event.model_dump(mode="json") for event in history.read(history_path)]
    payload["monitoring"] = monitoring(open_monitoring)
    payload["experiment"] = experiment_cycle.status(history_path.parent)  # a12: the online A/B test
    return payload


def monitoring(open_store: Callable[[], MonitoringStore]) -> dict[str, Any]:
    """The last cycle and both cursors; a store that does not answer is reported, not raised."""
    try:
        store = open_store()
    except Exception as exc:  # a status report says what it could not read
        return {"unavailable": str(exc)}
    try:
        policy = store.policy()
        latest = store.latest()
        return {
            "latest": None if latest is None else latest.model_dump(mode="json"),
            "cursor": policy.cursor,
            "alarming_windows": policy.consecutive,
            "last_retrain": policy.last_retrain,
            "retraining_cursor": store.retraining_cursor(),
        }
    except Exception as exc:  # as above
        return {"unavailable": str(exc)}
    finally:
        store.close()


_LINEAGE = ("git_commit", "data_md5", "feature_source_md5", "feature_service", "validation_success")
_REASON = 100  # characters of a reason shown on an event's line; the checks below it say the rest


def render(payload: dict[str, Any]) -> str:
    """The human view: aliases with metrics and lineage, monitoring, then the last ten events."""
    lines = (
        [f"model registry: {payload['tracking']}"]
        if "tracking" in payload
        else [f"model {payload['model_name']} at {payload['tracking_uri']}"]
    )
    for alias in (CHAMPION, CHALLENGER):
        info = payload.get(alias)
        if info is None:
            lines.append(f"  {alias:<10} none")
            continue
        metrics = info["metrics"]
        lines.append(
            f"  {alias:<10} v{info['version']}  accuracy {metrics.get('holdout_accuracy', 0):.4f}"
            f"  roc_auc {metrics.get('holdout_roc_auc', 0):.4f}  run {info['run_id'][:8]}"
        )
        lineage = info.get("lineage") or {}
        shown = [
            f"{key} {_short(key, lineage[key])}" for key in _LINEAGE if lineage.get(key) not in (None, "")
        ]
        if shown:
            lines.append(f"  {'':<10} lineage: {', '.join(shown)}")
    lines.append(_monitoring_line(payload.get("monitoring") or {}))
    if "loop" in payload:
        lines += loop_lines(payload["loop"])
    events = payload["history"][-10:]
    if events:
        lines.append("  history (latest last):")
    for event in events:
        lines += event_lines(event)
    return "\n".join(lines) + "\n"


def _short(key: str, value: object) -> str:
    """Hashes to their first 12 hex digits (enough to find them); names in full."""
    return str(value)[:12] if key == "git_commit" or key.endswith("md5") else str(value)


def event_lines(event: dict[str, Any]) -> list[str]:
    """One line per event naming the version it concerns (none when it concerns none), then
    one PASS/FAIL line per gate check."""
    reason = " ".join(str(event.get("reason", "")).split())
    if len(reason) > _REASON:
        reason = reason[: _REASON - 3] + "..."
    subject = _subject(event)
    head = f"    {event['time']}  {event.get('event')}  trigger={event.get('trigger')}"
    lines = [f"{head}{'  ' + subject if subject else ''}: {reason}"]
    for check in event.get("checks") or []:
        mark = "PASS" if check.get("passed") else "FAIL"
        lines.append(f"      {mark} {check.get('check')}: {check.get('detail')}")
    return lines


def _subject(event: dict[str, Any]) -> str:
    kind = event.get("event")
    if kind == "promotion":
        return f"v{event['challenger_version']}"
    if kind == "rollback":
        return f"v{event['champion_before']} -> v{event['champion_after']}"
    if kind == "retraining" and event.get("new_version"):
        return f"v{event['new_version']}"
    if kind == "monitoring":
        return f"drift share {event.get('drift_share', 0):.2f}"
    return ""


def loop_lines(loop: dict[str, Any]) -> list[str]:
    """The schedule, the last and next monitoring run and any retraining in flight."""
    if "unavailable" in loop:
        return [f"  loop       unavailable at {loop.get('prefect_api_url')}: {loop['unavailable']}"]
    if not loop.get("running"):
        return [f"  loop       not running ({loop.get('reason')})"]
    seconds = loop.get("monitor_schedule_seconds")
    every = "no schedule" if seconds is None else f"monitor every {seconds:g} s"
    paused = " (paused)" if loop.get("monitor_paused") else ""
    lines = [f"  loop       {every}{paused} on {loop.get('prefect_api_url')}"]
    last, upcoming = loop.get("last_monitoring_run"), loop.get("next_monitoring_run")
    lines.append(f"  {'':<10} last {_run(last, 'start_time')}; next {_run(upcoming, 'expected_start_time')}")
    flying = loop.get("retraining_in_flight") or []
    shown = ", ".join(_run(run, "start_time") for run in flying) if flying else "none"
    lines.append(f"  {'':<10} retraining in flight: {shown}")
    return lines


def _run(run: dict[str, Any] | None, time_key: str) -> str:
    if not run:
        return "none"
    return f"{run.get('name')} {run.get('state')} {run.get(time_key) or ''}".rstrip()


def _monitoring_line(state: dict[str, Any]) -> str:
    if "unavailable" in state:
        return f"  monitoring unavailable: {state['unavailable']}"
    latest = state.get("latest")
    if latest is None:
        return "  monitoring no cycle yet"
    accuracy = latest.get("live_accuracy")
    shown = "n/a" if accuracy is None else f"{accuracy:.4f}"
    return (
        f"  monitoring last cycle {latest.get('action')} (drift share {latest['drift_share']:.2f},"
        f" live accuracy {shown}); judged up to prediction {state['cursor']},"
        f" retrained up to {state['retraining_cursor']}"
    )
