"""The prediction log on SQLite (WAL): the embedded profile's store.

One small transaction per request, so a row is on disk before the response leaves; WAL lets
monitoring read while serving writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops.stores.interfaces import FeedbackTargetMissing, LoggedPrediction
from titanic_mlops.stores.rows import expand, row_values

logger = logging.getLogger(__name__)

# With background checkpoints, the writer checkpoints by itself only past this many WAL pages
# (~32 MB): a safety net should the background thread fall behind.
_WAL_SAFETY_PAGES = 8_192
_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    ts REAL NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    passenger_id INTEGER,
    record TEXT NOT NULL,
    features TEXT NOT NULL,
    probability REAL NOT NULL,
    survived INTEGER NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_passenger ON predictions (passenger_id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    prediction_id INTEGER NOT NULL REFERENCES predictions (id),
    label INTEGER NOT NULL CHECK (label IN (0, 1))
);
CREATE INDEX IF NOT EXISTS feedback_prediction ON feedback (prediction_id);
"""
_INSERT = (
    "INSERT INTO predictions (request_id, ts, model_name, model_version, passenger_id, record,"
    " features, probability, survived, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OWN_RANGE = (
    "SELECT last_insert_rowid(), count(*) FROM predictions"
    " WHERE id BETWEEN last_insert_rowid() - ? + 1 AND last_insert_rowid()"
)


class SqlitePredictionLog:
    """Thread-safe: one connection, one lock; WAL lets monitoring read while serving writes.

    `checkpoint_seconds` (the API sets it) moves WAL checkpoints to a background thread with its
    own connection. Otherwise SQLite checkpoints inside every few hundred commits, under the lock,
    and that commit waits for an fsync: milliseconds here, for the request that drew it and for
    every request queued behind it.
    """

    def __init__(self, path: Path, checkpoint_seconds: float | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_seconds is not None:
            self._db.execute(f"PRAGMA wal_autocheckpoint={_WAL_SAFETY_PAGES}")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_seconds,), name="wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, every: float) -> None:
        """PASSIVE: copies what it can without blocking the writer, who goes on appending."""
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            while not self._stop.wait(every):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # another process's checkpoint, say: try next time
                    logger.debug("background WAL checkpoint skipped: %s", exc)
        finally:
            db.close()

    def append(self, rows: list[LoggedPrediction]) -> list[int]:
        """All rows or none; the ids follow the rows' order.

        One row is one statement. Many rows go in one transaction: BEGIN IMMEDIATE holds the
        write lock and AUTOINCREMENT ids only grow, so the rows take consecutive ids ending at
        last_insert_rowid(); a count over that range proves it before the commit.
        """
        if not rows:
            return []
        values = row_values(rows, time.time())
        with self._lock:
            if len(values) == 1:
                return [int(self._db.execute(_INSERT + " RETURNING id", values[0]).fetchone()[0])]
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_INSERT, values)
                last, found = self._db.execute(_OWN_RANGE, (len(values),)).fetchone()
                first = last - len(values) + 1
                if found != len(values):
                    raise RuntimeError(f"prediction ids {first}..{last} are not this request's {len(values)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return list(range(first, last + 1))

    def add_feedback(
        self, label: int, prediction_id: int | None = None, passenger_id: int | None = None
    ) -> int:
        """Attach ground truth to a prediction (the latest one for a PassengerId)."""
        if label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, not {label!r}")
        with self._lock:
            if prediction_id is None:
                found = self._db.execute(
                    "SELECT max(id) FROM predictions WHERE passenger_id = ?", (passenger_id,)
                ).fetchone()
            else:
                found = self._db.execute(
                    "SELECT id FROM predictions WHERE id = ?", (prediction_id,)
                ).fetchone()
            if found is None or found[0] is None:
                raise FeedbackTargetMissing.of(prediction_id, passenger_id)
            self._db.execute(
                "INSERT INTO feedback (ts, prediction_id, label) VALUES (?, ?, ?)",
                (time.time(), int(found[0]), int(label)),
            )
            return int(found[0])

    def window(self, after_id: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Predictions with id > after_id, oldest first, features expanded into columns."""
        query = "SELECT * FROM predictions WHERE id > ? ORDER BY id"
        params: tuple[Any, ...] = (after_id,)
        if limit is not None:
            query += " LIMIT ?"
            params = (after_id, limit)
        with self._lock:
            frame = pd.read_sql_query(query, self._db, params=params)
        return expand(frame)

    def labelled(self, after_id: int = 0) -> pd.DataFrame:
        """Predictions that have ground truth (the latest label wins), with the label column."""
        query = (
            "SELECT p.*, f.label FROM predictions p JOIN feedback f ON f.prediction_id = p.id"
            " WHERE p.id > ? AND f.id = (SELECT max(id) FROM feedback WHERE prediction_id = p.id)"
            " ORDER BY p.id"
        )
        with self._lock:
            frame = pd.read_sql_query(query, self._db, params=(after_id,))
        return expand(frame)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM predictions").fetchone()[0])

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._lock:
            self._db.close()
