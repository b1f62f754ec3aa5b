"""The prediction log on PostgreSQL: the production profile's store, same interface as SQLite.

Same tables and columns as `SqlitePredictionLog`, so `window()` and `labelled()` return the same
frames and monitoring cannot tell the stores apart. One `postgres.Session` per log object: a
dropped connection is reopened once per call, so the API recovers by itself after a database
restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import psycopg

from titanic_mlops.stores.interfaces import FeedbackTargetMissing, LoggedPrediction
from titanic_mlops.stores.postgres_session import Session
from titanic_mlops.stores.rows import expand, row_values

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
_INSERT_ONE = (
    "INSERT INTO predictions (request_id, ts, model_name, model_version, passenger_id, record,"
    " features, probability, survived, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " RETURNING id"
)
# One statement for many rows, with binary (%b) arrays: psycopg escapes text arrays slowly. The ids
# are drawn from the sequence first and handed out in ascending order by position (WITH ORDINALITY),
# so the i-th row gets the i-th smallest id by construction, not by the order RETURNING happens to use.
_INSERT_MANY = """
INSERT INTO predictions (id, request_id, ts, model_name, model_version, passenger_id, record,
    features, probability, survived, latency_ms)
SELECT ids.id, v.request_id, v.ts, v.model_name, v.model_version, v.passenger_id, v.record,
    v.features, v.probability, v.survived, v.latency_ms
FROM unnest(%b::text[], %b::float8[], %b::text[], %b::text[], %b::int8[], %b::text[], %b::text[],
    %b::float8[], %b::int4[], %b::float8[])
    WITH ORDINALITY AS v(request_id, ts, model_name, model_version, passenger_id, record, features,
        probability, survived, latency_ms, position)
JOIN (
    SELECT id, row_number() OVER (ORDER BY id) AS position
    FROM (
        SELECT nextval(pg_get_serial_sequence('predictions', 'id')) AS id FROM generate_series(1, %b)
    ) AS drawn
) AS ids USING (position)
RETURNING id
"""
_LABELLED = (
    "SELECT p.*, f.label FROM predictions p JOIN feedback f ON f.prediction_id = p.id"
    " WHERE p.id > %s AND f.id = (SELECT max(id) FROM feedback WHERE prediction_id = p.id)"
    " ORDER BY p.id"
)


class PostgresPredictionLog:
    """Thread-safe: one connection, one lock; every write is its own transaction."""

    def __init__(self, url: str, connect_timeout: float = 10.0) -> None:
        self._session = Session(url, connect_timeout)
        self.url = self._session.url
        self._session.create_schema(_SCHEMA_LOCK_KEY, _SCHEMA)

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        return self._session.run(work)

    def append(self, rows: list[LoggedPrediction]) -> list[int]:
        """All rows or none: one statement is one transaction. The ids follow the rows' order."""
        if not rows:
            return []
        values = row_values(rows, time.time())
        query, params = _INSERT_ONE, list(values[0])
        if len(values) > 1:
            query, params = _INSERT_MANY, [*map(list, zip(*values, strict=True)), len(values)]

        def insert(db: psycopg.Connection[Any]) -> list[int]:
            return sorted(int(row[0]) for row in db.execute(query, params).fetchall())

        return self._run(insert)

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
                    raise FeedbackTargetMissing.of(prediction_id, passenger_id)
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
        return expand(self._frame(query, params))

    def labelled(self, after_id: int = 0) -> pd.DataFrame:
        """Predictions that have ground truth (the latest label wins), with the label column."""
        return expand(self._frame(_LABELLED, (after_id,)))

    def count(self) -> int:
        def count(db: psycopg.Connection[Any]) -> int:
            found = db.execute("SELECT count(*) FROM predictions").fetchone()
            return int(found[0]) if found else 0

        return self._run(count)

    def close(self) -> None:
        self._session.close()

    def _frame(self, query: str, params: tuple[Any, ...]) -> pd.DataFrame:
        def read(db: psycopg.Connection[Any]) -> pd.DataFrame:
            with db.cursor() as cursor:
                cursor.execute(query, params)
                columns = [c.name for c in cursor.description or []]
                rows = cursor.fetchall()
            return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)

        return self._run(read)
