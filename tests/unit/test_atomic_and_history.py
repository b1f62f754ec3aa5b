"""Atomic writes leave no partial file; history appends never interleave."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from titanic_mlops import atomic, history


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def explode(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic.write_with(target, explode)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_md5_matches_a_known_digest(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert atomic.file_md5(path) == "900150983cd24fb0d6963f7d28e17f72"


def test_concurrent_history_appends_all_land_whole(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"

    def writer(n: int) -> None:
        for i in range(50):
            history.append(path, {"event": "test", "writer": n, "i": i, "pad": "x" * 500})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = history.read(path)
    assert len(events) == 200
    assert {(e["writer"], e["i"]) for e in events} == {(n, i) for n in range(4) for i in range(50)}
