"""Deterministic production traffic drawn from the snapshot, with its ground truth.

`draw` is pure (frame in, frame out, same seed -> same rows); `adapters.api_client.send` posts
the records to a running API's `POST /predict` and then the labels to `POST /feedback`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops.domain import schema
from titanic_mlops.domain.scenarios import Scenario

FIRST_ID = 100_000
ID_BLOCK = 100_000
_AGE_FLOOR = 0.5


def first_id_for(seed: int) -> int:
    """Each seed gets its own PassengerId block, so two runs never reuse an id."""
    return FIRST_ID + seed * ID_BLOCK


def draw(snapshot: pd.DataFrame, scenario: Scenario, rows: int, seed: int) -> pd.DataFrame:
    """`rows` Kaggle records with their ground truth (`Survived`) from the scenario's world."""
    if rows < 1 or rows > ID_BLOCK:
        raise ValueError(f"rows must be between 1 and {ID_BLOCK}, not {rows}")
    if schema.LABEL not in snapshot.columns:
        raise ValueError("the snapshot needs its Survived column to give the traffic ground truth")
    rng = np.random.default_rng(seed)
    weights = np.ones(len(snapshot))
    for column, table in scenario.weights.items():
        keys = snapshot[column].astype("string").fillna("")
        weights *= keys.map(lambda value, t=table: t.get(str(value), 1.0)).to_numpy(dtype=float)
    picks = rng.choice(len(snapshot), size=rows, replace=True, p=weights / weights.sum())
    out = snapshot.iloc[picks].reset_index(drop=True).copy()
    for column, delta in scenario.shift.items():
        out[column] = (out[column] + delta).clip(lower=_AGE_FLOOR).round(1)
    for column, factor in scenario.scale.items():
        out[column] = (out[column] * factor).round(4)
    if scenario.region is not None:
        eligible = np.ones(rows, dtype=bool)
        for column, values in scenario.region.where.items():
            eligible &= out[column].astype("string").isin(values).to_numpy(dtype=bool)
        inside = eligible & (rng.random(rows) < scenario.region.fraction)
        for column, (low, high) in scenario.region.uniform.items():
            out.loc[inside, column] = np.floor(rng.uniform(low, high, int(inside.sum())))
        out.loc[inside, schema.LABEL] = scenario.region.survived
    out[schema.ID] = first_id_for(seed) + np.arange(rows)
    return out[schema.raw_columns(labelled=True)]


def records(traffic: pd.DataFrame) -> list[dict[str, Any]]:
    """The request bodies' instances: Kaggle columns, no label, a gap as null."""
    frame = traffic[schema.raw_columns(labelled=False)].astype(object)
    return [
        {str(k): (None if _missing(v) else _plain(v)) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
