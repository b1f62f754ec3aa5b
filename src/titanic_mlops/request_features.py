"""One validated request record -> the model vector, without building a DataFrame per row.

The same derivations as `features.add_row_features` + `add_population_features` +
`features.model_frame`, written per record because pandas costs ~4 ms per one-row request and
the API answers in well under one. `tests/serving/test_skew.py` proves the vectors equal both the
batch path's and the Feast online store's for every known passenger.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from titanic_mlops import feature_store, features, prediction, schema

logger = logging.getLogger(__name__)

Vector = dict[str, Any]
_EMBARKED = frozenset(str(v) for v in schema.ALLOWED_VALUES["Embarked"])


def record_vector(record: Mapping[str, Any], group_size: float | None) -> Vector:
    """Row features from the record, the ticket group size from the store (1 when unknown)."""
    sibsp, parch = int(record["SibSp"]), int(record["Parch"])
    family = sibsp + parch + 1
    age, fare = _number(record.get("Age")), _number(record.get("Fare"))
    size = 1 if group_size is None or math.isnan(group_size) else max(1, int(group_size))
    cabin, embarked = record.get("Cabin"), record.get("Embarked")
    return {
        "pclass": float(record["Pclass"]),
        "age": age,
        "sibsp": float(sibsp),
        "parch": float(parch),
        "fare": fare,
        "family_size": float(family),
        "is_alone": float(family == 1),
        "has_cabin": float(cabin is not None),
        "ticket_group_size": float(size),
        "fare_per_person": fare / size,
        "sex": str(record["Sex"]),
        "embarked": embarked if embarked in _EMBARKED else features.UNKNOWN,
        "title": features.extract_title(record["Name"]),
        "deck": features.extract_deck(cabin),
    }


def vectors_frame(vectors: Sequence[Vector]) -> pd.DataFrame:
    """The model frame (float64 numerics, str categories) from vectors, column by column."""
    return pd.DataFrame(vectors_columns(vectors))


def missing_counts(vectors: Sequence[Vector]) -> dict[str, int]:
    """Numeric model inputs that arrived empty, by feature (for the serving metrics)."""
    counts: dict[str, int] = {}
    for vector in vectors:
        for column in features.NUMERIC:
            if math.isnan(vector[column]):
                counts[column] = counts.get(column, 0) + 1
    return counts


@runtime_checkable
class ColumnScorer(Protocol):
    """A scorer that takes plain column arrays (no DataFrame), like `onnx_model.OnnxModel`."""

    def predict_columns(self, columns: Mapping[str, np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class RequestScores:
    """Predictions for request records and the vector each one was scored on (for the log)."""

    passenger_ids: list[int | None]
    probability: np.ndarray
    vectors: list[Vector]

    @property
    def survived(self) -> np.ndarray:
        return (self.probability >= 0.5).astype(int)


def vectors_columns(vectors: Sequence[Vector]) -> dict[str, np.ndarray]:
    """The model inputs as one array per column: float64 numerics, str categories."""
    columns: dict[str, np.ndarray] = {
        c: np.fromiter((v[c] for v in vectors), dtype=np.float64, count=len(vectors))
        for c in features.NUMERIC
    }
    for c in features.CATEGORICAL:
        columns[c] = np.array([v[c] for v in vectors], dtype=object)
    return columns


def score_records(
    records: Sequence[Mapping[str, Any]], model: prediction.LoadedModel, sizes: TicketSizes
) -> RequestScores:
    """Score request records; a column scorer skips pandas, any other scorer gets the model frame."""
    group = sizes.sizes([str(r["Ticket"]) for r in records])
    vectors = [record_vector(r, g) for r, g in zip(records, group, strict=True)]
    ids = [None if r.get(schema.ID) is None else int(r[schema.ID]) for r in records]
    # getattr, not isinstance(ColumnScorer): a runtime protocol check costs ~20 us per request
    predict_columns = getattr(model.scorer, "predict_columns", None)
    if predict_columns is not None:
        probability = np.asarray(predict_columns(vectors_columns(vectors)), dtype=np.float64)
    else:
        probability = model.probabilities(vectors_frame(vectors))
    return RequestScores(ids, probability, vectors)


class TicketSizes:
    """Ticket group sizes from the online store, remembered until `clear()`.

    The store changes only when the feature stage runs again; serving clears this on every
    alias poll and every swap, so a stale size lives at most one reload interval.
    """

    def __init__(self, fetch: prediction.TicketLookup, max_entries: int = 100_000) -> None:
        self._fetch = fetch
        self._max_entries = max_entries
        self._known: dict[str, float | None] = {}
        self._lock = threading.Lock()

    def sizes(self, tickets: Sequence[str]) -> list[float | None]:
        known = self._known
        missing = sorted({t for t in tickets if t not in known})
        if not missing:
            return [known[t] for t in tickets]
        try:
            fetched = self._fetch(missing).tolist()
        except feature_store.OnlineStoreUnavailable as exc:
            # Degrade, do not fail: a record carries everything but the group size, which then
            # defaults to 1 (as for a ticket nobody else holds). Not remembered: retried next time.
            logger.warning("ticket group sizes unavailable, using the default: %s", exc)
            return [known.get(t) for t in tickets]
        new = {
            t: None if s is None or math.isnan(s) else float(s) for t, s in zip(missing, fetched, strict=True)
        }
        with self._lock:
            if len(self._known) + len(new) > self._max_entries:
                self._known = {}
            self._known.update(new)
        return [new[t] if t in new else known[t] for t in tickets]

    def __call__(self, tickets: Sequence[str]) -> pd.Series:
        return pd.Series(self.sizes(tickets), dtype="float64")

    def clear(self) -> None:
        with self._lock:
            self._known = {}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
