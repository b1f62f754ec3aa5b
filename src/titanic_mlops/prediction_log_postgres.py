"""The prediction log on PostgreSQL: the production profile's store, same interface as SQLite.

Same tables and columns as `SqlitePredictionLog`, so `window()` and `labelled()` return the same
frames and monitoring cannot tell the stores apart. One connection per log object, guarded by a
lock (psycopg serializes a connection anyway); a dropped connection is reopened once per call,
so the API recovers by itself after a database restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import psycopg

from titanic_mlops.prediction_log import FeedbackTargetMissing, LoggedPrediction, _expand, row_values

T = TypeVar("T")
# Serializes concurrent `CREATE TABLE IF NOT EXISTS` from several processes (it races otherwise).
_SCHEMA_LOCK_KEY = 0x7469_7461_6E69_63  # "titanic"
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS predictions (
        id BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL,
        passenger_id BIGINT,
        record TEXT NOT NULL,
        features TEXT NOT NULL,
        probability DOUBLE PRECISION NOT NULL,
        survived INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS predictions_passenger ON predictions (passenger_id)",
    """CREATE TABLE IF NOT EXISTS feedback (
        id BIGSERIAL PRIMARY KEY,
        ts DOUBLE PRECISION NOT NULL,
        prediction_id BIGINT NOT NULL REFERENCES predictions (id),
        label INTEGER NOT NULL CHECK (label IN (0, 1))
    )""",
    "CREATE INDEX IF NOT EXISTS feedback_prediction ON feedback (prediction_id)",
)
_INSERT = (
    "INSERT INTO predictions (request_id, ts, model_name, model_version, passenger_id, record,"
    " features, probability, survived, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " RETURNING id"
)
_LABELLED = (
    "SELECT p.*, f.label FROM predictions p JOIN feedback f ON f.prediction_id = p.id"
    " WHERE p.id > %s AND f.id = (SELECT max(id) FROM feedback WHERE prediction_id = p.id)"
    " ORDER BY p.id"
)


def connection_string(url: str) -> str:
    """`postgresql+psycopg://` (SQLAlchemy style) and `postgres://` both mean `postgresql://`."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    if not url.startswith("postgresql://"):
        raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://...)")
    return url


class PostgresPredictionLog:
    """Thread-safe: one connection, one lock; every write is its own transaction."""

    def __init__(self, url: str, connect_timeout: float = 10.0) -> None:
        self.url = connection_string(url)
        self._timeout = connect_timeout
        self._lock = threading.Lock()
        self._db = self._connect()
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            for statement in _SCHEMA:
                self._db.execute(statement)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=int(self._timeout))

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run under the lock; reopen a dropped connection and retry once (reads and writes alike)."""
        with self._lock:
            try:
                return work(self._db)
            except psycopg.OperationalError:
                if not self._db.closed and not self._db.broken:
                    raise
                self._db = self._connect()
                return work(self._db)

    def append(self, rows: list[LoggedPrediction]) -> list[int]:
        values = row_values(rows, time.time())

        def insert(db: psycopg.Connection[Any]) -> list[int]:
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(_INSERT, values, returning=True)
                ids: list[int] = []
                while True:
                    found = cursor.fetchone()
                    if found is not None:
                        ids.append(int(found[0]))
                    if not cursor.nextset():
                        return ids

        return self._run(insert) if values else []

    def add_feedback(
        self, label: int, prediction_id: int | None = None, passenger_id: int | None = None
    ) -> int:
        """Attach ground truth to a prediction (the latest one for a PassengerId)."""
        if label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, not {label!r}")

        def attach(db: psycopg.Connection[Any]) -> int:
            with db.transaction():
                if prediction_id is None:
                    query, key = "SELECT max(id) FROM predictions WHERE passenger_id = %s", passenger_id
                else:
                    query, key = "SELECT id FROM predictions WHERE id = %s", prediction_id
                found = db.execute(query, (key,)).fetchone()
                if found is None or found[0] is None:
                    target = f"prediction {prediction_id}" if prediction_id else f"PassengerId {passenger_id}"
                    raise FeedbackTargetMissing(f"no logged prediction for {target}")
                db.execute(
                    "INSERT INTO feedback (ts, prediction_id, label) VALUES (%s, %s, %s)",
                    (time.time(), int(found[0]), int(label)),
                )
                return int(found[0])

        return self._run(attach)

    def window(self, after_id: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Predictions with id > after_id, oldest first, features expanded into columns."""
        query = "SELECT * FROM predictions WHERE id > %s ORDER BY id"
        params: tuple[Any, ...] = (after_id,)
        if limit is not None:
            query += " LIMIT %s"
            params = (after_id, limit)
        return _expand(self._frame(query, params))

    def labelled(self, after_id: int = 0) -> pd.DataFrame:
        """Predictions that have ground truth (the latest label wins), with the label column."""
        return _expand(self._frame(_LABELLED, (after_id,)))

    def count(self) -> int:
        def count(db: psycopg.Connection[Any]) -> int:
            found = db.execute("SELECT count(*) FROM predictions").fetchone()
            return int(found[0]) if found else 0

        return self._run(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _frame(self, query: str, params: tuple[Any, ...]) -> pd.DataFrame:
        def read(db: psycopg.Connection[Any]) -> pd.DataFrame:
            with db.cursor() as cursor:
                cursor.execute(query, params)
                columns = [c.name for c in cursor.description or []]
                rows = cursor.fetchall()
            return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)

        return self._run(read)
