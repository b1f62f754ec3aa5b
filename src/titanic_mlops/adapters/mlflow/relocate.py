"""Rebase the artifact locations an MLflow SQLite database recorded, when its state directory moved.

MLflow writes each experiment's, run's, logged model's and model version's artifact location as
an absolute URI when it creates them, and reads and writes artifacts there ever after: a copied
database would keep using the original's artifacts. These are the columns (MLflow 3's schema)
that hold such a location. The database is edited with the standard library before any MLflow
client opens it; MLflow itself offers no way to move a store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import Final

LOCATIONS: Final = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def rebase_locations(db: Path, old: Path, new: Path) -> int:
    """Point every recorded location under `old` at the same place under `new`; the rows changed.

    Locations are `file:` URIs (what the project and MLflow 3 write) or plain paths (MLflow's
    default experiment); anything else, and anything outside `old`, is left as it is.
    """
    if not db.exists():
        return 0
    prefixes = ((old.as_uri(), new.as_uri()), (str(old), str(new)))
    changed = 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn, conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, column in LOCATIONS:
            if table not in tables:
                continue  # an older schema, or a database no MLflow client has migrated yet
            for before, after in prefixes:
                changed += _replace_prefix(conn, table, column, before, after)
    forget_artifact_repositories()  # even when another process rebased the rows first
    return changed


def forget_artifact_repositories() -> None:
    """Drop MLflow's process-wide artifact repositories, which it keys by run id alone.

    A copy's runs have the original's ids: a process that used the original's runs would keep
    logging the copy's artifacts into the original's folders. Nothing to drop before MLflow loads.
    """
    utils = sys.modules.get("mlflow.tracking._tracking_service.utils")
    cache = getattr(utils, "_artifact_repos_cache", None)
    if cache is not None:
        cache.clear()


def _replace_prefix(conn: sqlite3.Connection, table: str, column: str, before: str, after: str) -> int:
    # `before` itself, or `before/...`: never a sibling such as `<old>-backup/...`.
    cursor = conn.execute(
        f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) '  # noqa: S608  # nosec B608 - names are constants
        f'WHERE "{column}" = ? OR substr("{column}", 1, ?) = ?',
        (after, len(before) + 1, before, len(before) + 1, before + "/"),
    )
    return cursor.rowcount
