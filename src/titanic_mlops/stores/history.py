"""The append-only record of every decision the loop takes (promotions, refusals, rollbacks).

One JSON line per event, written and read back by `records.HistoryEvent`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pydantic import TypeAdapter

from titanic_mlops.domain.records import HistoryEvent

_EVENT: TypeAdapter[HistoryEvent] = TypeAdapter(HistoryEvent)


def append(path: Path, event: HistoryEvent) -> HistoryEvent:
    """Add one event under an exclusive lock and fsync it: concurrent writers never interleave."""
    line = event.model_dump_json() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return event


def read(path: Path) -> list[HistoryEvent]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [_EVENT.validate_json(line) for line in handle if line.strip()]
