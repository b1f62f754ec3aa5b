"""Batch scoring of files larger than memory: partition by partition, into one submission file.

The same `prediction.score` path as the small-file command, run on `chunk_rows` rows at a time
(memory is bounded by the chunk, not the file), or on Dask partitions. Ticket group sizes come
from the online store once per distinct ticket, not once per row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops import atomic, ingest, prediction, schema
from titanic_mlops.registry import ModelRef


def score_csv(
    source: Path,
    output: Path,
    model: prediction.LoadedModel,
    tickets: prediction.TicketLookup,
    chunk_rows: int,
) -> int:
    """Stream `source` (Kaggle columns) into `output` (PassengerId,Survived); returns the row count."""
    if chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, not {chunk_rows}")
    rows = 0

    def write(staged: Path) -> None:
        nonlocal rows
        with staged.open("w", newline="") as out:
            for number, chunk in enumerate(pd.read_csv(source, dtype=str, chunksize=chunk_rows)):
                raw = ingest.type_columns(chunk, labelled=False, origin=f"{source} chunk {number}")
                scored = prediction.score(raw, model, tickets)
                prediction.submission(scored).to_csv(out, header=number == 0, index=False)
                rows += len(chunk)

    atomic.write_with(output, write)
    return rows


@dataclass(frozen=True)
class PortableModel:
    """What a Dask worker needs to rebuild the model: the ONNX bytes or the pickled pipeline."""

    ref: ModelRef
    engine: prediction.Engine
    payload: Any

    def load(self) -> prediction.LoadedModel:
        if self.engine == "onnx":
            return prediction.LoadedModel(self.ref, "onnx", _onnx_session(self.payload))
        return prediction.LoadedModel(self.ref, "sklearn", self.payload)


def score_csv_dask(
    source: Path,
    output: Path,
    model: PortableModel,
    tickets: prediction.TicketLookup,
    blocksize: str = "64MB",
    address: str | None = None,
) -> int:
    """Score `source` on Dask partitions (a local process pool, or the cluster at `address`)."""
    import dask
    import dask.dataframe as dd

    # Object columns, as pandas' read_csv(dtype=str) gives the chunked path: the same typing code.
    with dask.config.set({"dataframe.convert-string": False}), _scheduler(address):
        frame = dd.read_csv(str(source), dtype=str, blocksize=blocksize, keep_default_na=True)
        distinct = sorted(frame["Ticket"].dropna().unique().compute())
        sizes = dict(zip(distinct, tickets(distinct).tolist(), strict=True))
        meta = pd.DataFrame({schema.ID: pd.Series(dtype="int64"), schema.LABEL: pd.Series(dtype="int64")})
        scored = frame.map_partitions(_score_partition, model, sizes, meta=meta)
        atomic.write_with(output, lambda staged: scored.to_csv(str(staged), single_file=True, index=False))
    return _count_rows(output)


def _score_partition(part: pd.DataFrame, model: PortableModel, sizes: dict[str, float]) -> pd.DataFrame:
    raw = ingest.type_columns(part, labelled=False, origin="partition")

    def lookup(tickets: Any) -> pd.Series:
        return pd.Series([sizes.get(t) for t in tickets], dtype="float64")

    return prediction.submission(prediction.score(raw, model.load(), lookup))


_SESSIONS: dict[int, Any] = {}


def _onnx_session(payload: bytes) -> Any:
    """One ONNX Runtime session per worker process and model, not one per partition."""
    key = hash(payload)
    if key not in _SESSIONS:
        from titanic_mlops.onnx_model import OnnxModel

        _SESSIONS.clear()
        _SESSIONS[key] = OnnxModel(payload)
    return _SESSIONS[key]


@contextlib.contextmanager
def _scheduler(address: str | None) -> Iterator[None]:
    import dask

    if address:
        from distributed import Client

        with Client(address, set_as_default=True):  # type: ignore[no-untyped-call]
            yield
    else:
        with dask.config.set(scheduler="processes"):
            yield


def _count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
