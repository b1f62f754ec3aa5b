"""What the registry holds now and what the loop decided: `titanic-mlops status`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from titanic_mlops import history
from titanic_mlops.registry import CHALLENGER, CHAMPION, Registry


def collect(registry: Registry, history_path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "tracking_uri": registry.tracking_uri,
        "model_name": registry.model_name,
    }
    for alias in (CHAMPION, CHALLENGER):
        ref = registry.alias(alias)
        payload[alias] = registry.describe(ref) if ref else None
    payload["history"] = history.read(history_path)
    return payload


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
    for event in payload["history"][-10:]:
        lines.append(
            f"  {event['time']}  {event.get('event')}  trigger={event.get('trigger')}  "
            f"v{event.get('challenger_version', event.get('champion_after'))}: {event.get('reason')}"
        )
    return "\n".join(lines) + "\n"
