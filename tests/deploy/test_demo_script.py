"""`make demo` (scripts/demo.py) starts on a fresh state without losing the one it replaces."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.workspace import ROOT


def _demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_used_state_moves_aside_and_the_demo_starts_empty(tmp_path: Path) -> None:
    state = tmp_path / ".state"
    (state / "mlflow").mkdir(parents=True)
    (state / "mlflow" / "mlflow.db").write_text("runs")
    (state / "dvc-remote" / "ab").mkdir(parents=True)  # the checkout's DVC remote stays
    (tmp_path / ".state.previous").mkdir()  # an older one is replaced
    _demo().fresh_state(state)
    assert [p.name for p in state.iterdir()] == ["dvc-remote"] and (state / "dvc-remote" / "ab").is_dir()
    assert (tmp_path / ".state.previous" / "mlflow" / "mlflow.db").read_text() == "runs"


def test_a_state_holding_only_the_dvc_remote_is_fresh_already(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / ".state"
    (state / "dvc-remote").mkdir(parents=True)  # what `make setup` leaves in a fresh clone
    _demo().fresh_state(state)
    assert "moved" not in capsys.readouterr().out
    assert not (tmp_path / ".state.previous").exists()


def test_a_state_a_running_stack_uses_is_refused_and_kept(tmp_path: Path) -> None:
    state = tmp_path / ".state"
    (state / "run").mkdir(parents=True)
    (state / "run" / "api.pid").write_text(f"{os.getpid()}\n")  # alive: this process
    with pytest.raises(SystemExit, match=r"api run on .*make down"):
        _demo().fresh_state(state)
    assert (state / "run" / "api.pid").exists()
    assert not (tmp_path / ".state.previous").exists()


@pytest.mark.parametrize(
    ("shown", "rows"),
    [
        ({"required_rows": 522, "labelled_rows": 0}, 522),  # the whole plan in one window
        ({"required_rows": 522, "labelled_rows": 450}, 150),  # never a window below 150
        ({"required_rows": 522, "labelled_rows": 600}, 150),  # past the plan (an undecided look)
        ({}, 150),  # no plan shown yet
    ],
)
def test_the_shadow_window_carries_the_labelled_rows_the_plan_still_lacks(
    shown: dict[str, int], rows: int
) -> None:
    assert _demo().shadow_rows(shown) == rows
