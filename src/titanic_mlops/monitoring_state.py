"""Monitoring's memory between cycles: the policy state, the latest cycle and the cycle log.

A cycle reads the policy state when it starts and records itself when it ends (`record`): the
policy state, the latest summary and a cycle-log entry move together, and only if no other cycle
recorded in between, so two overlapping cycles never judge the same predictions twice (the later
one gets `CycleConflict`). The API reads `latest()` when Prometheus scrapes, so the gauges need no
shared process.

The store also keeps the retraining cursor: the last prediction id whose feedback became a
training batch (or was refused for good), so no labelled row is trained on twice.

`file:///dir` (the embedded profile) keeps policy.json, latest.json, cycles.jsonl and
retraining.json in `dir`; `postgresql://...` (the production profile) keeps three tables, one
row of policy and one of retraining cursor per model (`monitoring_state_postgres`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final, Protocol

from titanic_mlops import atomic
from titanic_mlops.errors import TitanicMlopsError
from titanic_mlops.monitoring_policy import PolicyState
from titanic_mlops.profiles import is_postgres
from titanic_mlops.promotion_lock import file_lock

logger = logging.getLogger(__name__)

KEYS: Final = ("drift_share", "drift_detected", "drifted_columns", "live_accuracy", "time")
POLICY: Final = "policy.json"
RETRAINING: Final = "retraining.json"
LATEST: Final = "latest.json"
CYCLES: Final = "cycles.jsonl"


class CycleConflict(TitanicMlopsError):
    """Another monitoring cycle recorded after this one read the policy state."""


class MonitoringStore(Protocol):
    def policy(self) -> PolicyState: ...
    def latest(self) -> dict[str, Any] | None: ...
    def record(self, result: dict[str, Any], policy: PolicyState, started_from: PolicyState) -> None: ...
    def cycles(self, limit: int | None = 100) -> list[dict[str, Any]]: ...
    def retraining_cursor(self) -> int: ...
    def save_retraining_cursor(self, cursor: int) -> None: ...
    def close(self) -> None: ...


class TargetNotEmpty(TitanicMlopsError):
    """The monitoring state to copy into already holds cycles."""


def open_store(url: str, model_name: str) -> MonitoringStore:
    """`file:///dir` or `postgresql://...` (TITANIC_MLOPS_MONITORING_URL, else from the profile)."""
    if url.startswith("file://"):
        return FileMonitoringStore(Path(url.removeprefix("file://")))
    if is_postgres(url):
        from titanic_mlops.monitoring_state_postgres import PostgresMonitoringStore

        return PostgresMonitoringStore(url, model_name)
    raise ValueError(
        f"TITANIC_MLOPS_MONITORING_URL: unsupported URL {url!r} (file:///dir or postgresql://...)"
    )


def migrate(source: MonitoringStore, target: MonitoringStore) -> int:
    """Copy every cycle, the policy and the retraining cursor into an empty store.

    The cursors are prediction ids, so it stays valid when the prediction log moves with its ids
    (`migrate-log`). Returns the number of cycles copied.
    """
    if target.policy() != PolicyState() or target.cycles(limit=1) or target.retraining_cursor():
        raise TargetNotEmpty("the target monitoring state already holds cycles; copy into an empty one")
    cycles = source.cycles(limit=None)
    for cycle in cycles[:-1]:
        target.record(cycle, PolicyState(), PolicyState())
    if cycles:
        target.record(cycles[-1], source.policy(), PolicyState())
    if source.retraining_cursor():
        target.save_retraining_cursor(source.retraining_cursor())
    return len(cycles)


def check_result(result: dict[str, Any]) -> dict[str, Any]:
    """The summary as stored: a missing or mistyped gauge key names itself."""
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
    return {**result, "drift_detected": bool(result["drift_detected"])}


def usable_latest(payload: object, where: str) -> dict[str, Any] | None:
    """A stored summary the gauges can use, or None (logged) when it is not one."""
    if not isinstance(payload, dict) or any(key not in payload for key in KEYS):
        logger.warning("monitoring state %s lacks one of %s", where, KEYS)
        return None
    return payload


def policy_from(payload: object, where: str) -> PolicyState:
    if not isinstance(payload, dict) or set(payload) - {"cursor", "consecutive", "last_retrain"}:
        raise ValueError(f"{where}: not a monitoring policy state: {payload!r}")
    return PolicyState(**payload)


class FileMonitoringStore:
    """Files in one directory; a lock file serializes `record` across processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def policy(self) -> PolicyState:
        path = self.directory / POLICY
        if not path.exists():
            return PolicyState()
        return policy_from(json.loads(path.read_text()), str(path))

    def latest(self) -> dict[str, Any] | None:
        path = self.directory / LATEST
        try:
            payload = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("unreadable monitoring state %s: %s", path, exc)
            return None
        return usable_latest(payload, str(path))

    def record(self, result: dict[str, Any], policy: PolicyState, started_from: PolicyState) -> None:
        stored = check_result(result)
        with file_lock(self.directory / "record.lock", timeout=60):
            current = self.policy()
            if current != started_from:
                raise CycleConflict(
                    f"another monitoring cycle recorded meanwhile (cursor {current.cursor}, this cycle "
                    f"started from {started_from.cursor}); this cycle's result is dropped"
                )
            # The policy first: it is what the next cycle starts from.
            atomic.write_json(self.directory / POLICY, asdict(policy))
            atomic.write_json(self.directory / LATEST, stored)
            with (self.directory / CYCLES).open("a") as handle:
                handle.write(json.dumps(stored, sort_keys=True, default=str) + "\n")

    def cycles(self, limit: int | None = 100) -> list[dict[str, Any]]:
        """The newest `limit` cycles (None: all), oldest first."""
        path = self.directory / CYCLES
        if not path.exists():
            return []
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        return [json.loads(line) for line in (lines if limit is None else lines[-limit:])]

    def retraining_cursor(self) -> int:
        path = self.directory / RETRAINING
        return int(json.loads(path.read_text())["cursor"]) if path.exists() else 0

    def save_retraining_cursor(self, cursor: int) -> None:
        atomic.write_json(self.directory / RETRAINING, {"cursor": int(cursor)})

    def close(self) -> None:
        return None


def _check_number(result: dict[str, Any], key: str) -> None:
    value = result[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{key} must be a number, not {value!r}")
