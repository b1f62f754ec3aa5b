"""Stage `ingest`: raw CSV files -> one typed table that records where each row came from."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from titanic_mlops.domain.errors import RawDataError
from titanic_mlops.domain.ingest import combine, type_columns


def read_raw_csv(path: Path, labelled: bool) -> pd.DataFrame:
    """Read a Kaggle-format file and type every column; a wrong column names itself."""
    if not path.is_file():
        raise RawDataError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=True)
    return type_columns(frame, labelled=labelled, origin=str(path))


def feedback_files(folder: Path) -> list[Path]:
    """Feedback batches are immutable files; a new batch is a new file, never an edit."""
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def load_training_table(raw: Path, feedback_dir: Path) -> pd.DataFrame:
    snapshot = read_raw_csv(raw, labelled=True)
    batches = [read_raw_csv(path, labelled=True) for path in feedback_files(feedback_dir)]
    return combine(snapshot, batches)
