"""Raw Kaggle rows -> the typed table: pure typing and the snapshot + feedback union."""

from __future__ import annotations

import logging

import pandas as pd

from titanic_mlops.domain import schema

logger = logging.getLogger(__name__)


def type_columns(frame: pd.DataFrame, labelled: bool, origin: str = "input") -> pd.DataFrame:
    """Cast each schema column that casts cleanly; leave the rest for validation to name.

    Ingest never judges the data: a missing column stays missing and a column that will not cast
    stays text, so the validation stage reports every problem at once, by column.
    """
    dtypes = dict(schema.RAW_DTYPES)
    if labelled:
        dtypes[schema.LABEL] = schema.LABEL_DTYPE
    typed: dict[str, pd.Series] = {}
    for column in schema.raw_columns(labelled):
        if column not in frame.columns:
            logger.warning("%s: column %s is missing", origin, column)
            continue
        try:
            typed[column] = _cast(frame[column], dtypes[column])
        except ValueError as exc:
            logger.warning("%s: column %s is not %s: %s", origin, column, dtypes[column], exc)
            typed[column] = frame[column].astype("string")
    return pd.DataFrame(typed, index=frame.index)


def _cast(column: pd.Series, dtype: str) -> pd.Series:
    if dtype == "string":
        return column.astype("string")
    numbers = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & numbers.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in column[bad].unique()[:3])
        raise ValueError(f"not a number: {examples}")
    if dtype == "int64":
        if numbers.isna().any() or (numbers != numbers.round()).any():
            raise ValueError("missing or non-integer value(s)")
        return numbers.astype("int64")
    return numbers.astype("float64")


def combine(snapshot: pd.DataFrame, feedback: list[pd.DataFrame]) -> pd.DataFrame:
    """The training table: the snapshot, then each feedback batch in name order, tagged by source."""
    parts = [snapshot.assign(**{schema.SOURCE: schema.SOURCE_SNAPSHOT})]
    parts += [batch.assign(**{schema.SOURCE: schema.SOURCE_FEEDBACK}) for batch in feedback]
    combined = pd.concat(parts, ignore_index=True)
    combined[schema.SOURCE] = combined[schema.SOURCE].astype("string")
    return combined
