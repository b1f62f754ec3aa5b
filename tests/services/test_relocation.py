"""A copied (`cp -a`) or moved state directory works on its own and never touches the original."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.workspace import Workspace, run_stage
from titanic_mlops.adapters import feast_store
from titanic_mlops.adapters.mlflow import relocate
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import relocation
from titanic_mlops.services.deployment import Deployment


@pytest.fixture(autouse=True)
def _forget_the_copies() -> Iterator[None]:
    """MLflow caches artifact repositories by run id: later tests must reach the original's runs."""
    yield
    relocate.forget_artifact_repositories()


def snapshot(root: Path) -> dict[str, str]:
    """Every file's digest. Prefect's home is left out: the session's Prefect server may still
    write its own log and database there, and nothing of the project records a location in it."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and "prefect" not in path.relative_to(root).parts
    }


def online_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return sum(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables)


def use(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    for key, value in ws.env().items():
        monkeypatch.setenv(key, value)
    return Deployment(Settings())


def works_on_its_own(ws: Workspace, deployment: Deployment) -> None:
    """The features stage fills its own online store; the champion loads; a new artifact lands in it."""
    run_stage(ws, "features")
    online = feast_store.online_passenger_features(deployment.feature_store(), [1])
    assert online["sex"].tolist() == ["male"]
    assert online_rows(deployment.state.feast_online_store) > 0
    registry = deployment.registry()
    ref = registry.require(CHAMPION)
    assert registry.load_sklearn(ref) is not None
    registry.client.log_text(ref.run_id, str(ws.root), "relocation/probe.txt")
    written = list(deployment.state.mlflow_artifacts.rglob("probe.txt"))
    assert [p.read_text() for p in written] == [str(ws.root)], "the artifact went somewhere else"


def test_the_first_open_records_where_the_state_lives_and_the_next_one_rebases_nothing(
    tmp_path: Path,
) -> None:
    state = StateLayout(tmp_path / "state")
    state.root.mkdir()
    assert relocation.settle(state) is None
    assert relocation.recorded_home(state) == state.root
    assert relocation.settle(state) is None


def test_a_state_that_does_not_exist_is_not_created_by_settling(tmp_path: Path) -> None:
    state = StateLayout(tmp_path / "nowhere")
    assert relocation.settle(state) is None
    assert not state.root.exists()


def test_a_state_opened_at_a_new_root_rebases_its_stores_and_records_the_new_root(tmp_path: Path) -> None:
    old = StateLayout(tmp_path / "old")
    old.mlflow_db.parent.mkdir(parents=True)
    with sqlite3.connect(old.mlflow_db) as conn:
        conn.execute("CREATE TABLE experiments (artifact_location TEXT)")
        conn.execute("INSERT INTO experiments VALUES (?)", (old.mlflow_artifacts.as_uri(),))
    relocation.settle(old)
    new = StateLayout(tmp_path / "new")
    old.root.rename(new.root)

    assert relocation.settle(new) == old.root
    assert relocation.recorded_home(new) == new.root
    with sqlite3.connect(new.mlflow_db) as conn:
        assert conn.execute("SELECT artifact_location FROM experiments").fetchall() == [
            (new.mlflow_artifacts.as_uri(),)
        ]


@pytest.mark.slow  # the trained workspace: the whole pipeline once per session
def test_a_copied_state_works_on_its_own_and_leaves_the_original_byte_for_byte(
    trained_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = trained_workspace
    before = snapshot(original.root)
    assert online_rows(original.state / "feast" / "online_store.db") > 0
    copy = Workspace(root=tmp_path / "copy", state=tmp_path / "copy" / ".state")
    shutil.copytree(original.root, copy.root, symlinks=True)  # what `cp -a` does

    works_on_its_own(copy, use(copy, monkeypatch))

    assert snapshot(original.root) == before, "a run on the copy wrote to the original"


@pytest.mark.slow
def test_a_moved_state_follows_itself_to_its_new_place(
    trained_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Workspace(root=tmp_path / "first", state=tmp_path / "first" / ".state")
    shutil.copytree(trained_workspace.root, first.root, symlinks=True)
    use(first, monkeypatch).registry()  # opened once where it was made
    moved = Workspace(root=tmp_path / "moved", state=tmp_path / "moved" / ".state")
    first.root.rename(moved.root)

    works_on_its_own(moved, use(moved, monkeypatch))

    assert not first.root.exists(), "something recreated the old place"
