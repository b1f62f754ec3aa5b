"""The latest monitoring cycle, handed from monitoring to serving through the state directory.

Monitoring writes `<state>/monitoring/latest.json` after each cycle; the API reads it when
Prometheus scrapes, so the gauges need no shared process.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Final

from titanic_mlops import atomic

logger = logging.getLogger(__name__)

LATEST: Final = Path("monitoring") / "latest.json"
KEYS: Final = ("drift_share", "drift_detected", "drifted_columns", "live_accuracy", "time")


def latest_path(state_dir: Path) -> Path:
    return state_dir / LATEST


def write_latest(state_dir: Path, result: dict[str, Any]) -> None:
    """Store one cycle's summary atomically; a missing or mistyped key names itself."""
    missing = [key for key in KEYS if key not in result]
    if missing:
        raise ValueError(f"monitoring result lacks {', '.join(missing)}")
    _check_number(result, "drift_share")
    _check_number(result, "time")
    if not isinstance(result["drift_detected"], bool | int):
        raise ValueError(f"drift_detected must be a bool, not {result['drift_detected']!r}")
    if isinstance(result["drifted_columns"], bool) or not isinstance(result["drifted_columns"], int):
        raise ValueError(f"drifted_columns must be an int count, not {result['drifted_columns']!r}")
    if result["live_accuracy"] is not None:
        _check_number(result, "live_accuracy")
    payload = {**result, "drift_detected": bool(result["drift_detected"])}
    atomic.write_json(latest_path(state_dir), payload)


def read_latest(state_dir: Path) -> dict[str, Any] | None:
    """The last cycle's summary, or None before the first cycle (or if the file is unreadable)."""
    path = latest_path(state_dir)
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("unreadable monitoring state %s: %s", path, exc)
        return None
    if not isinstance(payload, dict) or any(key not in payload for key in KEYS):
        logger.warning("monitoring state %s lacks one of %s", path, KEYS)
        return None
    return payload


def _check_number(result: dict[str, Any], key: str) -> None:
    value = result[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{key} must be a number, not {value!r}")
