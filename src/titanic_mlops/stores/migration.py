"""Copy state between stores: the prediction log (SQLite <-> PostgreSQL) and the monitoring state.

`titanic-mlops migrate-log` / `migrate-monitoring --from URL --to URL`: the move from the
embedded profile to the production one. Prediction ids are kept, so the monitoring and
retraining cursors (prediction ids) stay valid. The target must be empty: a half-copied store is
refused rather than merged.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.stores import urls
from titanic_mlops.stores.factory import open_prediction_log
from titanic_mlops.stores.interfaces import MonitoringStore, TargetNotEmpty
from titanic_mlops.stores.rows import FEEDBACK_COLUMNS, PREDICTION_COLUMNS


@contextlib.contextmanager
def _connect(url: str) -> Iterator[tuple[Any, str]]:
    """A DB-API connection and its parameter marker."""
    parsed = urls.parse(url, "the prediction log URL", ("sqlite", "postgresql"))
    if parsed.scheme == "sqlite":
        path = parsed.path
        if not path.exists():
            raise FileNotFoundError(f"{path}: no prediction log there")
        db = sqlite3.connect(path)
        try:
            yield db, "?"
            db.commit()
        finally:
            db.close()
    else:
        import psycopg

        with psycopg.connect(parsed.target) as pg:
            yield pg, "%s"


def copy_log(source: str, target: str, batch_rows: int = 10_000) -> dict[str, int]:
    """Copy every prediction and feedback row from `source` to `target`; returns the counts."""
    open_prediction_log(target).close()  # creates the target's tables
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


def migrate_monitoring(source: MonitoringStore, target: MonitoringStore) -> int:
    """Copy every cycle, the policy and the retraining cursor into an empty store.

    The cursors are prediction ids, so they stay valid when the prediction log moves with its
    ids (`migrate-log`). Returns the number of cycles copied.
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
