"""Passengers -> predictions: the one scoring path of the API, batch scoring and the gate's checks.

Records (a request), a typed raw table (a file) and stored model inputs (the online store, by
PassengerId) all become model input columns through `domain.features`, and every scoring
answers one `Scoring`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from titanic_mlops.adapters import feast_store
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import features, schema
from titanic_mlops.domain.evaluation import predicted
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services.ticket_sizes import TicketLookup
from titanic_mlops.stores.interfaces import LoggedPrediction

Engine = Literal["onnx", "sklearn"]
# Above this many rows, tickets are looked up once per distinct value (a batch repeats them).
DISTINCT_FROM = 256


class Scorer(Protocol):
    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(survived) per row, from one array per model input."""
        ...


class PipelineScorer:
    """The registered scikit-learn pipeline, which takes a DataFrame of the model inputs."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        frame = features.inputs_frame(inputs)
        return np.asarray(self.pipeline.predict_proba(frame), dtype=np.float64)[:, 1]


@dataclass(frozen=True)
class LoadedModel:
    ref: ModelRef
    engine: Engine
    scorer: Scorer
    loaded_at: float = field(default_factory=time.time)

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.scorer.probabilities(inputs)


@dataclass(frozen=True)
class Scoring:
    """One scoring: the version that answered, the passengers, their model inputs, P(survived)."""

    model: ModelRef
    passenger_ids: list[int | None]
    inputs: features.Columns
    probability: np.ndarray
    # passengers whose ticket group size the store did not give, so it took the default (1):
    # a ticket nobody else holds, or a store that is empty or down (serving counts them)
    defaulted_group_sizes: int = 0

    @property
    def survived(self) -> np.ndarray:
        return predicted(self.probability)

    def __len__(self) -> int:
        return len(self.passenger_ids)


def load_model(registry: Registry, ref: ModelRef, engine: Engine) -> LoadedModel:
    """Load a registered version with the chosen engine; both verify the artifact's hash."""
    if engine == "onnx":
        from titanic_mlops.adapters.onnx_graph import OnnxModel

        return LoadedModel(ref, engine, OnnxModel(registry.load_onnx(ref)))
    return LoadedModel(ref, engine, PipelineScorer(registry.load_sklearn(ref)))


def score_columns(
    raw: features.RawColumns, passenger_ids: list[int | None], model: LoadedModel, sizes: TicketLookup
) -> Scoring:
    """Raw columns -> model inputs (row features + stored group sizes) -> P(survived)."""
    stored = group_sizes(raw["Ticket"], sizes)
    inputs = features.model_inputs(raw, stored)
    defaulted = int(np.count_nonzero(np.isnan(stored)))
    return Scoring(model.ref, passenger_ids, inputs, model.probabilities(inputs), defaulted)


def group_sizes(tickets: Sequence[Any] | np.ndarray, sizes: TicketLookup) -> np.ndarray:
    """The stored group size of each ticket (NaN where unknown), asked once per distinct ticket.

    A gap is looked up as the text "None", as a single record's missing ticket is.
    """
    if len(tickets) <= DISTINCT_FROM:
        return _sizes_array(sizes([str(t) for t in tickets]))
    codes, distinct = pd.factorize(np.asarray(tickets, dtype=object), use_na_sentinel=True)
    looked = _sizes_array(sizes([*(str(t) for t in distinct), "None"]))
    return looked[codes]  # -1 (a gap) picks the size of "None", the last entry


def _sizes_array(looked: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if s is None else s for s in looked], dtype=np.float64)


def score_records(records: Sequence[Mapping[str, Any]], model: LoadedModel, sizes: TicketLookup) -> Scoring:
    """Request records in Kaggle names (validated by the API's schema)."""
    ids = [None if r.get(schema.ID) is None else int(r[schema.ID]) for r in records]
    return score_columns(features.records_columns(records), ids, model, sizes)


def score_frame(raw: pd.DataFrame, model: LoadedModel, sizes: TicketLookup) -> Scoring:
    """A typed raw table (ingest's typing); a missing PassengerId stays empty."""
    return score_columns(features.frame_columns(raw), passenger_ids(raw[schema.ID]), model, sizes)


def passenger_ids(column: pd.Series) -> list[int | None]:
    """The ids as Python ints (None for a gap); a column without gaps converts in one pass."""
    if not column.isna().any():
        return list(column.astype("int64").tolist())
    return [None if pd.isna(v) else int(v) for v in column.tolist()]


def score_stored(passenger_ids: Sequence[int], store: Any, model: LoadedModel) -> Scoring:
    """Model inputs read whole from the online store (prediction by PassengerId).

    Raises `UnknownPassenger` for ids the store does not hold, `OnlineStoreUnavailable` when it
    does not answer.
    """
    stored = feast_store.online_passenger_features(store, passenger_ids)
    frame = features.coerce_inputs(feast_store.require_known(stored, passenger_ids))
    inputs = {name: frame[name].to_numpy() for name in features.MODEL_INPUTS}
    return Scoring(model.ref, list(passenger_ids), inputs, model.probabilities(inputs))


def submission(scoring: Scoring) -> pd.DataFrame:
    """The Kaggle submission: PassengerId,Survived."""
    return pd.DataFrame({schema.ID: scoring.passenger_ids, schema.LABEL: scoring.survived})


def log_rows(
    scoring: Scoring, records: Sequence[Mapping[str, Any]], request_id: str, latency_ms: float
) -> list[LoggedPrediction]:
    """One prediction-log row per passenger: the record received and the inputs it was scored on."""
    ref = scoring.model
    return [
        LoggedPrediction(request_id, ref.name, ref.version, pid, dict(record), inputs, p, s, latency_ms)
        for pid, record, inputs, p, s in zip(
            scoring.passenger_ids,
            records,
            features.input_rows(scoring.inputs),
            scoring.probability.tolist(),
            scoring.survived.tolist(),
            strict=True,
        )
    ]
