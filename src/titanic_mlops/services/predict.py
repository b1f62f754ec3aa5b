"""Batch scoring (`titanic-mlops predict`): a Kaggle-format file -> a PassengerId,Survived file.

Small files in one go; larger than memory chunk by chunk (memory is bounded by the chunk) or on
Dask partitions. Every path is `scoring.score_frame` over whole columns (the ONNX graph runs once
per chunk); ticket group sizes come from the online store once per distinct ticket, not once per
row. The CSV parser types the numbers itself: reading text and casting it afterwards (ingest's
`type_columns`) costs four times as much as the parse. A file whose numbers do not parse is read
again the slow way, which names the column that is wrong.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import dask_cluster
from titanic_mlops.domain import schema
from titanic_mlops.domain.errors import RawDataError
from titanic_mlops.domain.ingest import type_columns
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import scoring
from titanic_mlops.services.ingest import read_raw_csv
from titanic_mlops.services.ticket_sizes import TicketLookup

logger = logging.getLogger(__name__)

# What the parser reads each raw column as: nullable integers for the id, floats for the other
# numbers (`features` takes every number as float64), text as Python strings with NaN gaps.
PARSED_DTYPES: Final[dict[str, str]] = {
    column: "Int64" if column == schema.ID else "object" if dtype == "string" else "float64"
    for column, dtype in schema.RAW_DTYPES.items()
}


class UnparsedNumber(Exception):
    """The parser met a value that is not a number where the contract wants one."""


def parsed_chunks(source: Path, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    """The file's rows, typed by the parser, whole or `chunk_rows` at a time.

    Raises `UnparsedNumber` when a number does not parse (the parser does not say which column).
    """
    if not source.is_file():
        raise RawDataError(f"{source}: no such file")
    try:
        if chunk_rows is None:
            yield pd.read_csv(source, dtype=PARSED_DTYPES)
            return
        reader = iter(pd.read_csv(source, dtype=PARSED_DTYPES, chunksize=chunk_rows))
        while (chunk := next(reader, None)) is not None:
            yield chunk
    except (ValueError, TypeError) as exc:  # pandas: ValueError for floats, TypeError for Int64
        raise UnparsedNumber(str(exc)) from exc


def text_chunks(source: Path, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    """The slow path: read as text, then ingest's typing, which logs each column that will not cast."""
    if chunk_rows is None:
        yield read_raw_csv(source, labelled=False)
        return
    for number, chunk in enumerate(pd.read_csv(source, dtype=str, chunksize=chunk_rows)):
        yield type_columns(chunk, labelled=False, origin=f"{source} chunk {number}")


Reader = Callable[[Path, int | None], Iterator[pd.DataFrame]]


def score_chunks(
    source: Path,
    output: Path,
    model: scoring.LoadedModel,
    sizes: TicketLookup,
    chunk_rows: int | None,
    reader: Reader | None = None,
) -> int:
    """Score `source` chunk by chunk into `output` (atomically); returns the row count.

    By default the parser-typed path, then the text path if a number does not parse; a given
    `reader` is used alone (the benchmark compares the two).
    """
    if reader is not None:
        return _write_scored(output, reader(source, chunk_rows), model, sizes)
    try:
        return _write_scored(output, parsed_chunks(source, chunk_rows), model, sizes)
    except UnparsedNumber as exc:
        logger.warning("%s: a number did not parse (%s); reading it again as text", source, exc)
        return _write_scored(output, text_chunks(source, chunk_rows), model, sizes)


def _write_scored(
    output: Path, chunks: Iterator[pd.DataFrame], model: scoring.LoadedModel, sizes: TicketLookup
) -> int:
    rows = 0

    def write(staged: Path) -> None:
        nonlocal rows
        with staged.open("w", newline="") as out:
            for number, raw in enumerate(chunks):
                scored = scoring.score_frame(raw, model, sizes)
                scoring.submission(scored).to_csv(out, header=number == 0, index=False)
                rows += len(raw)

    atomic.write_with(output, write)
    return rows


def score_file(source: Path, output: Path, model: scoring.LoadedModel, sizes: TicketLookup) -> int:
    """Read the whole file, score it, write the submission atomically; returns the row count."""
    return score_chunks(source, output, model, sizes, chunk_rows=None)


def score_csv(
    source: Path, output: Path, model: scoring.LoadedModel, sizes: TicketLookup, chunk_rows: int
) -> int:
    """Stream `source` (Kaggle columns) into `output` (PassengerId,Survived); returns the row count."""
    if chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, not {chunk_rows}")
    return score_chunks(source, output, model, sizes, chunk_rows)


@dataclass(frozen=True)
class PortableModel:
    """What a Dask worker needs to rebuild the model: the ONNX bytes or the fitted pipeline."""

    ref: ModelRef
    engine: scoring.Engine
    payload: Any

    def load(self) -> scoring.LoadedModel:
        if self.engine == "onnx":
            return scoring.LoadedModel(self.ref, "onnx", _onnx_session(self.payload))
        return scoring.LoadedModel(self.ref, "sklearn", scoring.PipelineScorer(self.payload))


def score_csv_dask(
    source: Path,
    output: Path,
    model: PortableModel,
    sizes: TicketLookup,
    blocksize: str = "64MB",
    address: str | None = None,
) -> int:
    """Score `source` on Dask partitions (a local process pool, or the cluster at `address`)."""
    distinct = dask_cluster.distinct_values(source, "Ticket", blocksize)
    known = dict(zip(distinct, sizes(distinct), strict=True))
    meta = pd.DataFrame({schema.ID: pd.Series(dtype="int64"), schema.LABEL: pd.Series(dtype="int64")})
    transform = functools.partial(score_partition, model=model, known=known)
    atomic.write_with(
        output, lambda staged: dask_cluster.map_csv(source, staged, transform, meta, blocksize, address)
    )
    return _count_rows(output)


def score_partition(part: pd.DataFrame, model: PortableModel, known: dict[str, float | None]) -> pd.DataFrame:
    raw = type_columns(part, labelled=False, origin="partition")
    scored = scoring.score_frame(raw, model.load(), lambda tickets: [known.get(t) for t in tickets])
    return scoring.submission(scored)


_SESSIONS: dict[int, Any] = {}


def _onnx_session(payload: bytes) -> Any:
    """One ONNX Runtime session per worker process and model, not one per partition."""
    key = hash(payload)
    if key not in _SESSIONS:
        from titanic_mlops.adapters.onnx_graph import OnnxModel

        _SESSIONS.clear()
        _SESSIONS[key] = OnnxModel(payload)
    return _SESSIONS[key]


def _count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
