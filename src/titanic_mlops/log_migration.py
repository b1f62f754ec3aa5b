"""Copy a prediction log between stores (SQLite <-> PostgreSQL), ids and feedback included.

`titanic-mlops migrate-log --from URL --to URL`: the move from the embedded profile to the
production one. Ids are kept, so the monitoring and retraining cursors (prediction ids) stay valid.
The target must be empty: a half-copied log is refused rather than merged.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from titanic_mlops.errors import TitanicMlopsError
from titanic_mlops.prediction_log import open_log
from titanic_mlops.profiles import is_postgres

PREDICTION_COLUMNS = (
    "id", "request_id", "ts", "model_name", "model_version", "passenger_id", "record", "features",
    "probability", "survived", "latency_ms",
)  # fmt: skip
FEEDBACK_COLUMNS = ("id", "ts", "prediction_id", "label")


class TargetNotEmpty(TitanicMlopsError):
    """The target log already holds predictions."""


@contextlib.contextmanager
def _connect(url: str) -> Iterator[tuple[Any, str]]:
    """A DB-API connection and its parameter marker."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise FileNotFoundError(f"{path}: no prediction log there")
        db = sqlite3.connect(path)
        try:
            yield db, "?"
            db.commit()
        finally:
            db.close()
    elif is_postgres(url):
        import psycopg

        from titanic_mlops.postgres import connection_string

        with psycopg.connect(connection_string(url)) as pg:
            yield pg, "%s"
    else:
        raise ValueError(f"unsupported prediction log URL: {url!r} (sqlite:///... or postgresql://...)")


def copy_log(source: str, target: str, batch_rows: int = 10_000) -> dict[str, int]:
    """Copy every prediction and feedback row from `source` to `target`; returns the counts."""
    open_log(target).close()  # creates the target's tables
    counts: dict[str, int] = {}
    with _connect(source) as (src, _), _connect(target) as (dst, mark):
        found = dst.cursor().execute("SELECT count(*) FROM predictions").fetchone()
        if found and found[0]:
            raise TargetNotEmpty(f"{target}: already holds {found[0]} predictions; migrate into an empty log")
        for table, columns in (("predictions", PREDICTION_COLUMNS), ("feedback", FEEDBACK_COLUMNS)):
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608  # nosec B608
            reader = src.cursor()
            reader.execute(f"SELECT {names} FROM {table} ORDER BY id")  # noqa: S608  # nosec B608
            counts[table] = 0
            while rows := reader.fetchmany(batch_rows):
                dst.cursor().executemany(insert, rows)
                counts[table] += len(rows)
            if mark == "%s":  # PostgreSQL: the next id continues after the copied ones
                dst.cursor().execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608  # nosec B608
                    f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
    return counts
