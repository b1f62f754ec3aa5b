"""The challenger's shadow predictions, keyed by the champion's prediction id they shadow.

A table of its own, not rows in `predictions`: monitoring's drift window, the feedback join (the
latest prediction of a PassengerId gets the label) and the served answers stay exactly the
champion's, and the pair (champion row, shadow row) is one join away for the paired test.
SQLite in the state directory; the embedded profile's store (see docs/monitoring.md).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shadow_predictions (
    prediction_id INTEGER NOT NULL,
    ts REAL NOT NULL,
    variant TEXT NOT NULL,
    model_version TEXT NOT NULL,
    probability REAL NOT NULL,
    survived INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    PRIMARY KEY (prediction_id, model_version)
);
"""


@dataclass(frozen=True)
class ShadowPrediction:
    prediction_id: int
    variant: str
    model_version: str
    probability: float
    survived: int
    latency_ms: float


class ShadowLog:
    """Thread-safe, WAL: the API appends while the monitoring cycle reads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def append(self, rows: list[ShadowPrediction]) -> None:
        values = [
            (r.prediction_id, time.time(), r.variant, r.model_version, float(r.probability), int(r.survived),
             float(r.latency_ms))
            for r in rows
        ]  # fmt: skip
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO shadow_predictions VALUES (?, ?, ?, ?, ?, ?, ?)", values
            )

    def for_version(self, model_version: str, after_id: int = 0) -> pd.DataFrame:
        """prediction_id, probability, survived of one challenger version's shadow scores."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT prediction_id, probability, survived FROM shadow_predictions"
                " WHERE model_version = ? AND prediction_id > ? ORDER BY prediction_id",
                (model_version, after_id),
            )
            rows = cursor.fetchall()
        return pd.DataFrame(rows, columns=["prediction_id", "probability", "survived"])

    def close(self) -> None:
        with self._lock:
            self._db.close()
