"""The Dask adapter, the only module that imports Dask: a CSV mapped partition by partition.

A local process pool, or the cluster at `address`; the output is written as one file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd


def distinct_values(source: Path, column: str, blocksize: str) -> list[str]:
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.read_csv(str(source), dtype=str, blocksize=blocksize, keep_default_na=True)
        return sorted(frame[column].dropna().unique().compute())


def map_csv(
    source: Path,
    staged: Path,
    transform: Callable[[pd.DataFrame], pd.DataFrame],
    meta: pd.DataFrame,
    blocksize: str,
    address: str | None,
) -> None:
    """`transform` on every partition of `source` (read as text columns) into one CSV at `staged`."""
    import dask
    import dask.dataframe as dd

    # Object columns, as pandas' read_csv(dtype=str) gives the chunked path: the same typing code.
    with dask.config.set({"dataframe.convert-string": False}), _scheduler(address):
        frame = dd.read_csv(str(source), dtype=str, blocksize=blocksize, keep_default_na=True)
        frame.map_partitions(transform, meta=meta).to_csv(str(staged), single_file=True, index=False)


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
