"""The Evidently workspace: snapshots land whole, broken files go aside, a cycle's open stays cheap."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.samples import monitor_params
from titanic_mlops.adapters.evidently import reports as drift
from titanic_mlops.adapters.evidently import workspace as evidently_workspace

pytestmark = pytest.mark.slow
PARAMS = monitor_params(cooldown_minutes=0)


Saved = tuple[drift.DriftResult, Path, dict[str, str]]


@pytest.fixture
def saved(reference: pd.DataFrame, tmp_path: Path) -> Saved:
    """A calm window's report, saved once: the result, the workspace and the snapshot ids."""
    calm = drift.analyse(reference, reference.sample(150, random_state=3), PARAMS, full=False)
    ws = tmp_path / "evidently"
    return calm, ws, drift.save(calm, ws, "titanic-survival", tmp_path / "reports", "t1")


def test_a_corrupt_snapshot_is_quarantined_and_the_next_save_goes_on(
    saved: Saved, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calm, ws, first = saved
    (good,) = ws.glob(f"*/snapshots/{first['drift']}.json")
    broken = good.with_name("00000000-0000-0000-0000-000000000000.json")
    broken.write_text('{"truncated": ')
    second = drift.save(calm, ws, "titanic-survival", tmp_path / "reports", "t2")
    assert second["drift"] != first["drift"] and good.exists()
    assert not broken.exists()
    assert list((ws / "quarantine").glob("*.json"))
    assert "quarantined" in caplog.text


def test_a_snapshot_found_whole_is_parsed_again_only_once_it_changes(saved: Saved) -> None:
    _, ws, first = saved
    (kept,) = ws.glob(f"*/snapshots/{first['drift']}.json")
    assert evidently_workspace.quarantine(ws) == []  # the next cycle's check parses it and remembers it
    checked = json.loads((ws / evidently_workspace.CHECKED_INDEX).read_text())
    assert list(checked) == [str(kept.relative_to(ws))]
    # Same size and time, other bytes: not parsed again, so not quarantined (the index held).
    stat = kept.stat()
    kept.write_text("x" * stat.st_size)
    os.utime(kept, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert evidently_workspace.quarantine(ws) == [] and kept.exists()
    # Cut short (another size): parsed, found broken, moved aside.
    kept.write_text('{"cut": ')
    (moved,) = evidently_workspace.quarantine(ws)
    assert not kept.exists() and moved.parent == ws / "quarantine"
    assert json.loads((ws / evidently_workspace.CHECKED_INDEX).read_text()) == {}


def test_a_save_opens_no_store_that_reads_every_snapshot(
    saved: Saved, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidently.ui.service.storage.local import base

    calm, ws, first = saved

    def load_everything(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the dataset store's LocalState.load parses every snapshot")

    monkeypatch.setattr(base.LocalState, "load", classmethod(load_everything))
    second = drift.save(calm, ws, "titanic-survival", tmp_path / "reports", "t2")
    assert second["drift"] != first["drift"]
    assert len(list(ws.glob("*/snapshots/*.json"))) == 2
