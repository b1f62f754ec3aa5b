"""Batch scoring (`titanic-mlops predict`): a Kaggle-format file -> a PassengerId,Survived file.

Small files in one go; larger than memory chunk by chunk (memory is bounded by the chunk) or on
Dask partitions. Every path is `scoring.score_frame`; ticket group sizes come from the online
store once per distinct ticket, not once per row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import dask_cluster
from titanic_mlops.domain import schema
from titanic_mlops.domain.ingest import type_columns
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import scoring
from titanic_mlops.services.ingest import read_raw_csv
from titanic_mlops.services.ticket_sizes import TicketLookup


def score_file(source: Path, output: Path, model: scoring.LoadedModel, sizes: TicketLookup) -> int:
    """Read the whole file, score it, write the submission atomically; returns the row count."""
    raw = read_raw_csv(source, labelled=False)
    atomic.write_csv(output, scoring.submission(scoring.score_frame(raw, model, sizes)))
    return len(raw)


def score_csv(
    source: Path, output: Path, model: scoring.LoadedModel, sizes: TicketLookup, chunk_rows: int
) -> int:
    """Stream `source` (Kaggle columns) into `output` (PassengerId,Survived); returns the row count."""
    if chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, not {chunk_rows}")
    rows = 0

    def write(staged: Path) -> None:
        nonlocal rows
        with staged.open("w", newline="") as out:
            for number, chunk in enumerate(pd.read_csv(source, dtype=str, chunksize=chunk_rows)):
                raw = type_columns(chunk, labelled=False, origin=f"{source} chunk {number}")
                scored = scoring.score_frame(raw, model, sizes)
                scoring.submission(scored).to_csv(out, header=number == 0, index=False)
                rows += len(chunk)

    atomic.write_with(output, write)
    return rows


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
