"""The append-only record of every decision the loop takes (promotions, refusals, rollbacks)."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def append(path: Path, event: dict[str, Any]) -> dict[str, Any]:
    """Add one event under an exclusive lock and fsync it: concurrent writers never interleave."""
    record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **event}
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return record


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]
