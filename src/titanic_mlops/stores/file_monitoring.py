"""Monitoring state as files in one directory: the embedded profile's store.

policy.json (what the next cycle starts from), latest.json (the gauges), cycles.jsonl (every
cycle) and retraining.json (the retraining cursor); a lock file serializes `record` across
processes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Final

from titanic_mlops import atomic
from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.domain.records import CycleResult
from titanic_mlops.stores.file_lock import file_lock
from titanic_mlops.stores.interfaces import conflict, usable_cycle

POLICY: Final = "policy.json"
RETRAINING: Final = "retraining.json"
LATEST: Final = "latest.json"
CYCLES: Final = "cycles.jsonl"

logger = logging.getLogger(__name__)


def policy_from(payload: object, where: str) -> PolicyState:
    if not isinstance(payload, dict) or set(payload) - {"cursor", "consecutive", "last_retrain"}:
        raise ValueError(f"{where}: not a monitoring policy state: {payload!r}")
    return PolicyState(**payload)


class FileMonitoringStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def policy(self) -> PolicyState:
        path = self.directory / POLICY
        if not path.exists():
            return PolicyState()
        return policy_from(json.loads(path.read_text()), str(path))

    def latest(self) -> CycleResult | None:
        path = self.directory / LATEST
        try:
            payload = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("unreadable monitoring state %s: %s", path, exc)
            return None
        return usable_cycle(payload, str(path))

    def record(self, result: CycleResult, policy: PolicyState, started_from: PolicyState) -> None:
        stored = result.model_dump(mode="json")
        with file_lock(self.directory / "record.lock", timeout=60):
            current = self.policy()
            if current != started_from:
                raise conflict(current, started_from)
            # The policy first: it is what the next cycle starts from.
            atomic.write_json(self.directory / POLICY, asdict(policy))
            atomic.write_json(self.directory / LATEST, stored)
            with (self.directory / CYCLES).open("a") as handle:
                handle.write(json.dumps(stored, sort_keys=True) + "\n")

    def cycles(self, limit: int | None = 100) -> list[CycleResult]:
        path = self.directory / CYCLES
        if not path.exists():
            return []
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        chosen = lines if limit is None else lines[len(lines) - min(limit, len(lines)) :]
        return [CycleResult.model_validate_json(line) for line in chosen]

    def retraining_cursor(self) -> int:
        path = self.directory / RETRAINING
        return int(json.loads(path.read_text())["cursor"]) if path.exists() else 0

    def save_retraining_cursor(self, cursor: int) -> None:
        atomic.write_json(self.directory / RETRAINING, {"cursor": int(cursor)})

    def close(self) -> None:
        return None
