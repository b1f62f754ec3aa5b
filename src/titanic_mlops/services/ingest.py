"""Stage `ingest`: raw CSV files -> one typed table that records where each row came from.

A file that is not a readable Kaggle CSV (missing, empty, binary, JSON, not UTF-8, truncated,
malformed) is refused here with one `RawDataError` naming the file and the problem, before any
output is written; the contract on the values is the validate stage's (training) or
`domain.schema.batch_problems` (batch scoring).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from titanic_mlops.domain.errors import RawDataError
from titanic_mlops.domain.ingest import combine, type_columns

_SNIFF = 1 << 16  # bytes read from each end of a file to recognise what it is


def read_raw_csv(path: Path, labelled: bool) -> pd.DataFrame:
    """Read a Kaggle-format file and type every column; a wrong column names itself."""
    return type_columns(read_text_frame(path), labelled=labelled, origin=str(path))


def read_text_frame(path: Path) -> pd.DataFrame:
    """The whole file, every cell as text (gaps as missing), or one `RawDataError`."""
    check_file(path)
    with _refusals(path):
        frame = pd.read_csv(path, dtype=str, keep_default_na=True, encoding="utf-8")
    if frame.empty:
        raise RawDataError(f"{path}: has a header but no rows")
    return frame


def iter_text_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file `chunk_rows` rows at a time, cells as text: memory bounded by the chunk."""
    check_file(path)
    rows = 0
    with _refusals(path):
        for chunk in pd.read_csv(
            path, dtype=str, keep_default_na=True, encoding="utf-8", chunksize=chunk_rows
        ):
            rows += len(chunk)
            yield chunk
    if rows == 0:
        raise RawDataError(f"{path}: has a header but no rows")


def check_file(path: Path) -> None:
    """Refuse what is plainly not a CSV from its first and last bytes, without reading it all."""
    if not path.exists():
        raise RawDataError(f"{path}: no such file")
    if not path.is_file():
        raise RawDataError(f"{path}: not a file")
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
        handle.seek(max(0, size - _SNIFF))
        tail = handle.read()
    if not head.strip():
        raise RawDataError(f"{path}: the file is empty (expected a CSV with a header row)")
    if b"\x00" in head or b"\x00" in tail:
        raise RawDataError(f"{path}: binary data (NUL bytes), not a CSV text file")
    if head.lstrip()[:1] in (b"{", b"["):
        raise RawDataError(f"{path}: looks like JSON; expected a CSV with a header row")
    _check_complete(path, head, tail, size)


def _check_complete(path: Path, head: bytes, tail: bytes, size: int) -> None:
    """A last line with fewer fields than the header and no newline is a cut-off file."""
    if tail.endswith((b"\n", b"\r")) or (size <= len(head) and b"\n" not in head.rstrip()):
        return
    header = next(csv.reader(io.StringIO(head.split(b"\n", 1)[0].decode("utf-8", "replace"))), [])
    last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
    fields = next(csv.reader(io.StringIO(last)), [])
    if len(fields) < len(header) or last.count('"') % 2:
        raise RawDataError(
            f"{path}: looks truncated: the last line has {len(fields)} of {len(header)} fields"
            " and no line end (was the copy cut off?)"
        )


@contextlib.contextmanager
def _refusals(path: Path) -> Iterator[None]:
    """pandas' and the codec's errors on a bad file -> one RawDataError naming the file."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise RawDataError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded);"
            " re-save the file as UTF-8"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise RawDataError(f"{path}: no columns (expected a CSV with a header row)") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise RawDataError(f"{path}: not a well-formed CSV: {detail}") from exc


def feedback_files(folder: Path) -> list[Path]:
    """Feedback batches are immutable files; a new batch is a new file, never an edit."""
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def load_training_table(raw: Path, feedback_dir: Path) -> pd.DataFrame:
    snapshot = read_raw_csv(raw, labelled=True)
    batches = [read_raw_csv(path, labelled=True) for path in feedback_files(feedback_dir)]
    return combine(snapshot, batches)
