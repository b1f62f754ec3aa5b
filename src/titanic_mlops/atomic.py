"""Write-then-rename, so a reader never sees a half-written file."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd


@contextmanager
def _staged(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    staged = Path(tmp)
    try:
        yield staged
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)


def write_with(path: Path, writer: Callable[[Path], object]) -> Path:
    """Let `writer` fill a temporary sibling, then move it over `path` in one step."""
    with _staged(path) as staged:
        writer(staged)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_with(path, lambda p: p.write_text(text))


def write_json(path: Path, payload: Any) -> Path:
    return write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    return write_with(path, lambda p: frame.to_parquet(p, index=False))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    return write_with(path, lambda p: frame.to_csv(p, index=False))


def file_md5(path: Path) -> str:
    """The same digest DVC records for a single-file output."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
