"""Stage `validate`: the passenger contract on the ingested table; a failure stops the pipeline.

The report is written either way (it says what failed); the validated table only on success,
and a stale one from an earlier run is removed, so no stage downstream reads unchecked data.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

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
    report = expectations.validate_frame(frame, params.validate_, params.ingest, labelled=True)
    atomic.write_json(report_path, report.model_dump(mode="json"))
    if docs is not None:
        write_html(report, docs)
    if not report.success:
        out.unlink(missing_ok=True)
        raise ValidationFailed(report.failures)
    atomic.write_parquet(out, frame)
    return report


def write_html(report: ValidationReport, folder: Path) -> Path:
    """`<folder>/index.html`: the report as one self-contained page (inline CSS, no script, no
    CDN), readable offline; replaces Great Expectations' data docs, whose pages load Bootstrap
    and jQuery from CDNs. The folder holds only this page (a stale site is removed)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    page = folder / "index.html"
    return atomic.write_text(page, render_html(report))


def render_html(report: ValidationReport) -> str:
    verdict = "passed" if report.success else "FAILED"
    rows = "".join(_html_row(result) for result in report.results)
    failures = "".join(f"<li>{html.escape(text)}</li>" for text in report.failures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation {verdict}: {html.escape(report.suite)}</title>
<style>{_CSS}</style></head><body>
<h1>Data validation {verdict}</h1>
<p class="summary">suite <b>{html.escape(report.suite)}</b>: {report.rows} rows,
{report.evaluated_expectations} expectations, {report.failed_expectations} failed</p>
{f"<ul class='failures'>{failures}</ul>" if failures else ""}
<table><thead><tr><th>expectation</th><th>column</th><th>result</th><th>unexpected</th>
<th>observed</th><th>examples</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}"
    "th{background:#f2f2f2}tr.fail td{background:#fde8e8}td.ok{color:#17733a;font-weight:600}"
    "td.bad{color:#b00020;font-weight:600}.failures li{color:#b00020}"
)


def _html_row(result: dict[str, Any]) -> str:
    passed = bool(result.get("success"))
    cells = [
        result.get("expectation", ""),
        result.get("column", ""),
        None,
        result.get("unexpected_count", ""),
        result.get("observed_value", ""),
        result.get("examples", ""),
    ]
    shown = [f"<td>{html.escape(str(cell))}</td>" for cell in cells]
    shown[2] = '<td class="ok">pass</td>' if passed else '<td class="bad">FAIL</td>'
    return f'<tr class="{"pass" if passed else "fail"}">{"".join(shown)}</tr>'


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
