"""Which DVC workspace a command works in: the flag, the current directory, or the demo's."""

from __future__ import annotations

from pathlib import Path

from titanic_mlops.config.layout import StateLayout, WorkspaceLayout, chosen_workspace


def workspace(path: Path, outputs: bool) -> Path:
    layout = WorkspaceLayout(path)
    layout.dvc_yaml.parent.mkdir(parents=True, exist_ok=True)
    layout.dvc_yaml.write_text("stages: {}\n")
    if outputs:
        layout.validated.parent.mkdir(parents=True)
        layout.validated.write_bytes(b"")
    return path


def test_the_flag_wins_then_a_checkout_with_outputs_then_the_workspace_the_state_names(
    tmp_path: Path,
) -> None:
    state = StateLayout(tmp_path / "state")
    checkout = workspace(tmp_path / "checkout", outputs=False)
    demo = workspace(tmp_path / "demo", outputs=True)
    assert chosen_workspace(None, state, checkout) == checkout, "no pointer: the current directory"
    state.workspace_pointer.parent.mkdir(parents=True)
    state.workspace_pointer.write_text(f"{demo}\n")
    assert chosen_workspace(None, state, checkout) == demo, "a fresh clone after `make demo`"
    assert chosen_workspace(tmp_path / "x", state, checkout) == tmp_path / "x"
    workspace(checkout, outputs=True)
    assert chosen_workspace(None, state, checkout) == checkout, "the checkout's own pipeline run"


def test_a_pointer_to_a_workspace_that_is_gone_is_not_followed(tmp_path: Path) -> None:
    state = StateLayout(tmp_path / "state")
    state.root.mkdir()
    state.workspace_pointer.write_text(f"{tmp_path / 'deleted'}\n")
    assert chosen_workspace(None, state, tmp_path) == tmp_path


def test_a_relative_pointer_names_a_workspace_inside_the_state_wherever_the_state_is(tmp_path: Path) -> None:
    state = StateLayout(tmp_path / "state")
    demo = workspace(state.root / "demo-workspace", outputs=True)
    state.workspace_pointer.write_text("demo-workspace\n")
    assert chosen_workspace(None, state, tmp_path) == demo
