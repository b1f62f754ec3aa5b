"""Labelled feedback -> a training batch and the gate's `recent` set: pure functions plus checks.

The prediction log holds, per prediction, the raw record the API received and the model input
vector it computed; the ground truth arrives later. A retraining turns those into:
- a Kaggle-format batch (raw record + `Survived`) that the `ingest` stage appends to the
  snapshot, so the features are recomputed by the one feature module, and
- a held-back `recent` frame (the logged model inputs + `Survived`) that never enters training
  and on which the gate compares challenger and champion in the new world.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from titanic_mlops.domain import features, schema

# A record without a PassengerId still needs a unique key in the training table.
ANONYMOUS_ID_BASE = 10_000_000
_HASH_MULTIPLIER = 2_654_435_761  # Knuth's multiplicative hash: a fixed, well-spread split
RECENT_FILE = "recent.parquet"


@dataclass(frozen=True)
class FeedbackSplit:
    batch: pd.DataFrame
    recent: pd.DataFrame
    first_prediction_id: int
    last_prediction_id: int


def label_problems(labelled: pd.DataFrame, min_rows: int) -> list[str]:
    """What stops a retraining before any data is written (labels outside 0/1, too few rows)."""
    problems = []
    labels = pd.to_numeric(labelled.get("label", pd.Series(dtype=float)), errors="coerce")
    bad = labelled.loc[~labels.isin([0, 1]), "id"].tolist() if len(labelled) else []
    if bad:
        problems.append(f"{len(bad)} label(s) outside 0/1 (prediction ids {bad[:5]})")
    if len(labelled) < min_rows:
        problems.append(f"{len(labelled)} labelled row(s), fewer than min_feedback_rows {min_rows}")
    return problems


def in_recent(prediction_ids: pd.Series, fraction: float) -> np.ndarray:
    """Deterministic by prediction id: the same row always lands on the same side."""
    ids = prediction_ids.astype("int64").to_numpy().astype(np.uint64)
    spread = (ids * np.uint64(_HASH_MULTIPLIER)) % np.uint64(2**32)
    return np.asarray(spread.astype(np.float64) / 2**32 < fraction)


def split(labelled: pd.DataFrame, fraction: float) -> FeedbackSplit:
    """`labelled` as `PredictionLog.labelled()` returns it -> training batch and recent set."""
    latest = labelled.sort_values("id").drop_duplicates(subset=["passenger_id"], keep="last")
    anonymous = labelled[labelled["passenger_id"].isna()]
    rows = pd.concat([latest[latest["passenger_id"].notna()], anonymous]).sort_values("id")
    recent_mask = in_recent(rows["id"], fraction)
    return FeedbackSplit(
        batch=kaggle_rows(rows[~recent_mask]),
        recent=model_rows(rows[recent_mask]),
        first_prediction_id=int(labelled["id"].min()),
        last_prediction_id=int(labelled["id"].max()),
    )


def kaggle_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Logged raw records + label, in Kaggle column order (what `ingest` reads)."""
    records = pd.DataFrame([json.loads(r) for r in rows["record"]], index=rows.index)
    out = pd.DataFrame(index=rows.index)
    for column in schema.raw_columns(labelled=False):
        out[column] = records[column] if column in records.columns else None
    ids = rows["passenger_id"].astype("Float64")
    fallback = ANONYMOUS_ID_BASE + rows["id"].astype("int64")
    out[schema.ID] = ids.fillna(fallback.astype("Float64")).astype("int64")
    out.insert(1, schema.LABEL, rows["label"].astype("int64"))
    return out.reset_index(drop=True)


def model_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The logged model inputs + label: the frame `titanic-mlops promote --recent` reads."""
    inputs = pd.DataFrame(
        [json.loads(v) for v in rows["features"]], index=rows.index, columns=list(features.MODEL_INPUTS)
    )
    frame = features.coerce_inputs(inputs)
    frame[schema.LABEL] = rows["label"].astype("int64").to_numpy()
    return frame.reset_index(drop=True)


def batch_path(folder: Path, now: datetime, rows: int) -> Path:
    """data/feedback/<UTC timestamp>-<rows>.csv: a new name per batch, never an old one reused."""
    return folder / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{rows}.csv"
