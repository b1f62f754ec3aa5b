"""Atomic writes leave no partial file."""

from __future__ import annotations

from pathlib import Path

import pytest

from titanic_mlops import atomic


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
