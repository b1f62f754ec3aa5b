"""The Feast registry's online-store records follow a moved state; the config names the layout's files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from feast.protos.feast.core.InfraObject_pb2 import InfraObject
from feast.protos.feast.core.Registry_pb2 import Registry as RegistryProto

from tests.support.workspace import ROOT
from titanic_mlops.adapters.feast_store import load_repo_config, rebase_registry
from titanic_mlops.config.layout import StateLayout


def registry_file(path: Path, tables: dict[str, str]) -> Path:
    proto = RegistryProto()
    for name, db in tables.items():
        item = InfraObject(infra_object_class_type="feast.infra.online_stores.sqlite.SqliteTable")
        item.sqlite_table.path, item.sqlite_table.name = db, name
        proto.infra.infra_objects.append(item)
    path.write_bytes(proto.SerializeToString())
    return path


def recorded(path: Path) -> dict[str, str]:
    proto = RegistryProto()
    proto.ParseFromString(path.read_bytes())
    return {item.sqlite_table.name: item.sqlite_table.path for item in proto.infra.infra_objects}


def test_rebases_the_online_store_tables_recorded_under_the_old_root(tmp_path: Path) -> None:
    old, new = tmp_path / "original", tmp_path / "copy"
    old.mkdir()  # Feast opening a recorded table would create <old>/feast/online_store.db
    registry = registry_file(
        tmp_path / "registry.db",
        {"passengers": f"{old}/feast/online_store.db", "elsewhere": "/data/online_store.db"},
    )

    assert rebase_registry(registry, old, new) == 1

    assert recorded(registry) == {
        "passengers": str(new / "feast" / "online_store.db"),
        "elsewhere": "/data/online_store.db",
    }
    assert not (old / "feast").exists(), "reading the registry opened a recorded file"


def test_a_registry_with_nothing_to_move_is_not_rewritten(tmp_path: Path) -> None:
    registry = registry_file(tmp_path / "registry.db", {"passengers": "/data/online_store.db"})
    written = registry.stat().st_mtime_ns
    assert rebase_registry(registry, Path("/srv/state"), tmp_path) == 0
    assert registry.stat().st_mtime_ns == written
    assert rebase_registry(tmp_path / "absent.db", Path("/srv/state"), tmp_path) == 0


def test_the_embedded_config_names_the_files_the_state_layout_names(tmp_path: Path) -> None:
    state = StateLayout(tmp_path / "state")
    config = load_repo_config(ROOT / "feature_repo", state.root)
    assert Path(config.registry.path) == state.feast_registry
    assert Path(config.online_store.path) == state.feast_online_store


INSTRUMENTED = (
    "import sys; {setup}; import feast.feature_view as fv; "
    "print('TypeCheckMemo' in fv.FeatureView.__init__.__code__.co_names)"
)


def instrumented(setup: str) -> bool:
    code = INSTRUMENTED.format(setup=setup)
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return answer.stdout.strip() == "True"


def test_feast_is_imported_without_typeguard_recompiling_its_classes() -> None:
    # The control: imported plainly, Feast's methods carry typeguard's injected checks.
    assert instrumented("import feast")
    assert not instrumented("from titanic_mlops.adapters import feast_store; feast_store.import_feast()")
