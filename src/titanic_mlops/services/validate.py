"""Stage `validate`: the passenger contract on the ingested table; a failure stops the pipeline.

The report is written either way (it says what failed); the validated table only on success,
and a stale one from an earlier run is removed, so no stage downstream reads unchecked data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import expectations
from titanic_mlops.domain.errors import ValidationFailed
from titanic_mlops.domain.params import Params
from titanic_mlops.domain.stage_outputs import ValidationReport


def run(source: Path, out: Path, report_path: Path, docs: Path | None, params: Params) -> ValidationReport:
    frame = pd.read_parquet(source)
    report = expectations.validate_frame(frame, params.validate_, params.ingest, labelled=True, docs_dir=docs)
    atomic.write_json(report_path, report.model_dump(mode="json"))
    if not report.success:
        out.unlink(missing_ok=True)
        raise ValidationFailed(report.failures)
    atomic.write_parquet(out, frame)
    return report


def read_report(path: Path) -> ValidationReport:
    return ValidationReport.model_validate_json(path.read_text())
