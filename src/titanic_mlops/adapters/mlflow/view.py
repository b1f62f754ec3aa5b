"""The registry as `status` shows it, saved beside the embedded store, so that `status` need not
import MLflow: MLflow's import and its SQLAlchemy store are about two seconds of a `status`
that otherwise takes well under one.

Only for the embedded SQLite store (the deployment names its file). The saved view records the
database's fingerprint (inode, size and modification time of the file and of its journals, and
SQLite's header change counter), which every write to the store changes, and is used only
while the fingerprint is unchanged: a stale view is never shown, it
only costs a live read. The commands that move an alias (the gate, a rollback, the experiment's
decisions) save it once their writes are done; a view read while another process wrote is not
saved. A tracking server or a database elsewhere is read every time.

This module imports neither MLflow nor pandas: `status` loads it on every call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from titanic_mlops.domain.versions import CHALLENGER, CHAMPION, ModelRef

ALIASES = (CHAMPION, CHALLENGER)
# Each alias -> `Registry.describe` of the version it points at, or None.
Versions = dict[str, dict[str, Any] | None]


class Readable(Protocol):
    """What the view reads of `registry.Registry`."""

    tracking_uri: str
    model_name: str

    def alias(self, alias: str) -> ModelRef | None: ...

    def describe(self, ref: ModelRef) -> dict[str, Any]: ...


class SavedView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking_uri: str
    model_name: str
    fingerprint: list[list[int]]
    versions: Versions


def fingerprint(db: Path) -> list[list[int]]:
    """Inode, size and mtime (ns) of the database and of its rollback and write-ahead journals,
    and the database header's change counter.

    The counter (bytes 24-27, which SQLite bumps on every commit in rollback-journal mode, the
    mode MLflow leaves it in) catches a write that kept the size within the kernel's coarse
    timestamp tick; a write in WAL mode grows the `-wal` file instead.
    """
    marks: list[list[int]] = []
    for path in (db, db.with_name(db.name + "-journal"), db.with_name(db.name + "-wal")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            marks.append([])
            continue
        marks.append([stat.st_ino, stat.st_size, stat.st_mtime_ns])
    marks[0].append(_change_counter(db))
    return marks


def _change_counter(db: Path) -> int:
    try:
        with db.open("rb") as f:
            header = f.read(28)
    except FileNotFoundError:
        return -1
    return int.from_bytes(header[24:28], "big") if len(header) == 28 else -1


def live(registry: Readable) -> Versions:
    """What each alias points at, read from the store now."""
    return {alias: registry.describe(ref) if (ref := registry.alias(alias)) else None for alias in ALIASES}


def load(path: Path, db: Path | None, tracking_uri: str, model_name: str) -> Versions | None:
    """The saved view when it was read from this store (`db`, its file; None when it is not an
    embedded one), for this model, and nothing was written since; else None (read live)."""
    if db is None:
        return None
    try:
        saved = SavedView.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):  # none yet, or unreadable: a live read rewrites it later
        return None
    if (saved.tracking_uri, saved.model_name) != (tracking_uri, model_name):
        return None
    return saved.versions if saved.fingerprint == fingerprint(db) else None


def save(registry: Readable, path: Path, db: Path | None) -> Versions:
    """Read the view live and save it with the fingerprint of `db` (the store's file), unless
    the store changed during the read (then a later `status` reads live); nothing is saved for
    a store that is not embedded (`db` None). Returns what was read."""
    before = None if db is None else fingerprint(db)
    versions = live(registry)
    if db is not None and fingerprint(db) == before:
        from titanic_mlops import atomic

        view = SavedView(
            tracking_uri=registry.tracking_uri,
            model_name=registry.model_name,
            fingerprint=before,
            versions=versions,
        )
        atomic.write_json(path, view.model_dump(mode="json"))
    return versions
