"""`make help`: every target once, under use / develop / CI, user targets first."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target_once_in_three_groups() -> None:
    text = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    groups = re.split(r"^(use|develop|CI):$", text, flags=re.M)[1:]
    listed = {name: body.split() for name, body in zip(groups[::2], groups[1::2], strict=True)}
    assert list(listed) == ["use", "develop", "CI"]
    shown = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
    sources = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
    defined = {
        m.group(1)
        for path in sources
        for m in re.finditer(r"^([a-zA-Z0-9_-]+):.*## ", path.read_text(), re.M)
    }
    assert sorted(shown) == sorted(defined)
    use = [line.split()[0] for line in groups[1].splitlines() if line.strip()]
    assert {"demo", "status", "up", "down"} <= set(use)
    assert "test-services" not in use
