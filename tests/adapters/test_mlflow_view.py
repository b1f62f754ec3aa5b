"""The saved registry view: used only while the embedded store is unchanged since it was read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from titanic_mlops.adapters.mlflow import view
from titanic_mlops.domain.versions import CHAMPION, ModelRef


class FakeRegistry:
    """What `view` asks of a Registry; `during_read` runs inside the live read (another writer)."""

    def __init__(self, db: Path, model_name: str = "titanic-survival") -> None:
        self.db: Path | None = db
        self.tracking_uri = f"sqlite:///{db}"
        self.model_name = model_name
        self.reads = 0
        self.during_read: Callable[[], None] = lambda: None

    def alias(self, alias: str) -> ModelRef | None:
        self.reads += 1
        self.during_read()
        return ModelRef(self.model_name, "3", "run-3") if alias == CHAMPION else None

    def describe(self, ref: ModelRef) -> dict[str, Any]:
        return {
            "name": ref.name,
            "version": ref.version,
            "run_id": ref.run_id,
            "metrics": {"holdout_accuracy": 0.8},
        }


def _store(tmp_path: Path) -> tuple[Path, Path, FakeRegistry]:
    db = tmp_path / "mlflow" / "mlflow.db"
    db.parent.mkdir()
    db.write_bytes(b"SQLite format 3\x00")
    return db, tmp_path / "run" / "registry-view.json", FakeRegistry(db)


def _write(db: Path) -> None:
    """A write to the store: the file grows and its mtime moves."""
    with db.open("ab") as f:
        f.write(b"\x00" * 512)
    stat = db.stat()
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_a_saved_view_answers_until_the_store_is_written(tmp_path: Path) -> None:
    db, path, registry = _store(tmp_path)
    saved = view.save(registry, path, registry.db)
    assert saved == {
        "champion": registry.describe(ModelRef("titanic-survival", "3", "run-3")),
        "challenger": None,
    }
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) == saved
    _write(db)
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None


def test_a_commit_that_kept_the_size_and_the_timestamp_is_a_write(tmp_path: Path) -> None:
    """Within the kernel's coarse timestamp tick a page rewrite leaves size and mtime as they
    were; SQLite's header change counter still moves."""
    db, path, registry = _store(tmp_path)
    db.write_bytes(b"SQLite format 3\x00" + bytes(8) + (41).to_bytes(4, "big") + bytes(72))
    view.save(registry, path, registry.db)
    stat = db.stat()
    with db.open("r+b") as f:
        f.seek(24)
        f.write((42).to_bytes(4, "big"))
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert db.stat().st_size == stat.st_size
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None


def test_a_journal_appearing_is_a_write(tmp_path: Path) -> None:
    db, path, registry = _store(tmp_path)
    view.save(registry, path, registry.db)
    db.with_name("mlflow.db-wal").write_bytes(b"wal")
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None


def test_a_view_read_while_another_process_wrote_is_not_saved(tmp_path: Path) -> None:
    db, path, registry = _store(tmp_path)
    registry.during_read = lambda: _write(db)
    assert (
        view.save(registry, path, registry.db)["champion"] is not None
    )  # the caller still gets what it read
    assert not path.exists()


def test_a_view_of_another_store_or_model_is_not_used(tmp_path: Path) -> None:
    db, path, registry = _store(tmp_path)
    view.save(registry, path, registry.db)
    assert view.load(path, registry.db, registry.tracking_uri, "another-model") is None
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    assert view.load(path, copy, f"sqlite:///{copy}", registry.model_name) is None


def test_an_unreadable_or_absent_view_means_a_live_read(tmp_path: Path) -> None:
    _, path, registry = _store(tmp_path)
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None
    path.parent.mkdir()
    path.write_text('{"tracking_uri": ', encoding="utf-8")
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None


def test_a_tracking_server_is_read_every_time(tmp_path: Path) -> None:
    _, path, registry = _store(tmp_path)
    registry.tracking_uri, registry.db = "http://127.0.0.1:5000", None
    view.save(registry, path, registry.db)
    assert not path.exists()
    assert view.load(path, registry.db, registry.tracking_uri, registry.model_name) is None
