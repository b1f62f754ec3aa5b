"""Stage `validate`: the passenger contract on the ingested table; a failure stops the pipeline.

The report is written either way (it says what failed); the validated table only on success,
and a stale one from an earlier run is removed, so no stage downstream reads unchecked data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import expectations
from titanic_mlops.domain.errors import RawDataError, ValidationFailed
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.stage_outputs import ValidationReport


def run(source: Path, out: Path, report_path: Path, docs: Path | None, params: Params) -> ValidationReport:
    try:
        frame = read_input(source)
    except RawDataError:
        out.unlink(missing_ok=True)
        raise
    report = expectations.validate_frame(frame, params.validate_, params.ingest, labelled=True, docs_dir=docs)
    atomic.write_json(report_path, report.model_dump(mode="json"))
    if not report.success:
        out.unlink(missing_ok=True)
        raise ValidationFailed(report.failures)
    atomic.write_parquet(out, frame)
    return report


def read_input(source: Path) -> pd.DataFrame:
    """The ingested table, or one RawDataError saying what is wrong with it and what to run."""
    if not source.is_file():
        raise RawDataError(f"{source}: no such file; run `titanic-mlops ingest` (or `dvc repro`) first")
    try:
        frame = pd.read_parquet(source)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RawDataError(
            f"{source}: not a readable parquet table ({detail}); rerun `titanic-mlops ingest`"
        ) from exc
    if frame.empty:
        raise RawDataError(f"{source}: the table has no rows; check the raw snapshot and rerun ingest")
    return frame


def read_report(path: Path) -> ValidationReport:
    return ValidationReport.model_validate_json(path.read_text())
