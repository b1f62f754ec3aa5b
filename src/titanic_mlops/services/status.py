"""What the registry holds now and what the loop decided: `titanic-mlops status`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION
from titanic_mlops.services import experiment_cycle
from titanic_mlops.stores import history
from titanic_mlops.stores.interfaces import MonitoringStore


def collect(
    registry: Registry, history_path: Path, open_monitoring: Callable[[], MonitoringStore]
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "tracking_uri": registry.tracking_uri,
        "model_name": registry.model_name,
    }
    for alias in (CHAMPION, CHALLENGER):
        ref = registry.alias(alias)
        payload[alias] = registry.describe(ref) if ref else None
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


def render(payload: dict[str, Any]) -> str:
    lines = [f"model {payload['model_name']} at {payload['tracking_uri']}"]
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
    lines.append(_monitoring_line(payload.get("monitoring") or {}))
    for event in payload["history"][-10:]:
        lines.append(
            f"  {event['time']}  {event.get('event')}  trigger={event.get('trigger')}  "
            f"v{event.get('challenger_version', event.get('champion_after'))}: {event.get('reason')}"
        )
    return "\n".join(lines) + "\n"


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
