"""The MLflow database's recorded artifact locations follow a moved state, and nothing else moves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from titanic_mlops.adapters.mlflow.relocate import rebase_locations


def tracking_db(path: Path, locations: list[str]) -> Path:
    """MLflow's location columns, one row per location (no `logged_models`: an older schema)."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE experiments (artifact_location TEXT)")
        conn.execute("CREATE TABLE runs (artifact_uri TEXT)")
        conn.execute("CREATE TABLE model_versions (storage_location TEXT, source TEXT)")
        for location in locations:
            conn.execute("INSERT INTO experiments VALUES (?)", (location,))
            conn.execute("INSERT INTO runs VALUES (?)", (location,))
            conn.execute("INSERT INTO model_versions VALUES (?, ?)", (location, location))
    return path


def column(db: Path, sql: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [value for (value,) in conn.execute(sql)]


def test_rebases_uris_and_plain_paths_under_the_old_root_only(tmp_path: Path) -> None:
    old, new = Path("/srv/a state"), Path("/home/me/copy")
    db = tracking_db(
        tmp_path / "mlflow.db",
        [
            f"{old.as_uri()}/mlflow/artifacts",
            f"{old.as_uri()}/mlflow/artifacts/1/abc/artifacts",
            f"{old}/mlruns/0",
            f"{old.as_uri()}-backup/mlflow/artifacts",
            "file:///elsewhere/artifacts",
            "models:/m-123",
            "mlflow-artifacts:/titanic-mlops",
        ],
    )

    assert rebase_locations(db, old, new) == 4 * 3

    assert column(db, "SELECT artifact_uri FROM runs") == [
        f"{new.as_uri()}/mlflow/artifacts",
        f"{new.as_uri()}/mlflow/artifacts/1/abc/artifacts",
        f"{new}/mlruns/0",
        f"{old.as_uri()}-backup/mlflow/artifacts",
        "file:///elsewhere/artifacts",
        "models:/m-123",
        "mlflow-artifacts:/titanic-mlops",
    ]
    assert column(db, "SELECT source FROM model_versions") == column(db, "SELECT artifact_uri FROM runs")
    assert rebase_locations(db, old, new) == 0, "a second rebase finds nothing left to move"


def test_a_state_without_a_tracking_database_has_nothing_to_rebase(tmp_path: Path) -> None:
    assert rebase_locations(tmp_path / "absent.db", Path("/a"), Path("/b")) == 0
    assert not (tmp_path / "absent.db").exists()
