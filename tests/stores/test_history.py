"""The history: typed events, appended whole by concurrent writers and read back as written."""

from __future__ import annotations

import threading
from pathlib import Path

from titanic_mlops.domain.records import MonitoringEvent, RollbackEvent
from titanic_mlops.stores import history


def test_concurrent_history_appends_all_land_whole(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"

    def writer(n: int) -> None:
        for i in range(50):
            event = RollbackEvent(
                model_name="m", champion_before=str(n), champion_after=str(i), reason="x" * 500
            )
            history.append(path, event)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = history.read(path)
    assert len(events) == 200
    pairs = {(e.champion_before, e.champion_after) for e in events if isinstance(e, RollbackEvent)}
    assert pairs == {(str(n), str(i)) for n in range(4) for i in range(50)}


def test_each_event_reads_back_as_its_own_type(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    written = [
        RollbackEvent(model_name="m", champion_before="2", champion_after="1", reason="manual"),
        MonitoringEvent(reason="drift", drift_share=0.5, live_accuracy=None, window_ids=[1, 100]),
    ]
    for event in written:
        history.append(path, event)
    assert history.read(path) == written
