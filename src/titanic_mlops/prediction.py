"""Passenger records -> predictions: the one path shared by batch scoring and the API."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from titanic_mlops import features, ingest, schema
from titanic_mlops.registry import ModelRef, Registry

Engine = Literal["onnx", "sklearn"]
TicketLookup = Callable[[Sequence[str]], pd.Series]


class Scorer(Protocol):
    def predict_proba(self, frame: pd.DataFrame) -> Any: ...


@dataclass(frozen=True)
class LoadedModel:
    ref: ModelRef
    engine: Engine
    scorer: Scorer
    loaded_at: float = field(default_factory=time.time)

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.scorer.predict_proba(frame), dtype=np.float64)[:, 1]


@dataclass(frozen=True)
class Scored:
    """Predictions plus the exact inputs the model saw, for the prediction log."""

    passenger_ids: list[int | None]
    probability: np.ndarray
    model_inputs: pd.DataFrame

    @property
    def survived(self) -> np.ndarray:
        return (self.probability >= 0.5).astype(int)


def load_model(registry: Registry, ref: ModelRef, engine: Engine) -> LoadedModel:
    """Load a registered version with the chosen engine; both verify the artifact's hash."""
    if engine == "onnx":
        from titanic_mlops.onnx_model import OnnxModel

        return LoadedModel(ref, engine, OnnxModel(registry.load_onnx(ref)))
    return LoadedModel(ref, engine, registry.load_sklearn(ref))


def records_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Kaggle-format records to the typed raw table; a missing PassengerId stays empty."""
    frame = pd.DataFrame.from_records(list(records), columns=list(schema.RAW_DTYPES))
    ids = [None if pd.isna(v) else int(v) for v in frame[schema.ID]]
    typed = ingest.type_columns(frame.assign(**{schema.ID: 0}), labelled=False, origin="records")
    typed[schema.ID] = pd.array(ids, dtype="Int64")
    return typed


def model_inputs(raw: pd.DataFrame, ticket_lookup: TicketLookup) -> pd.DataFrame:
    """Row features from the record, population features from the store, in the model's order."""
    rows = features.add_row_features(raw.assign(**{schema.ID: 0}))
    sizes = ticket_lookup(rows[features.TICKET].tolist())
    with_population = features.add_population_features(rows, sizes.set_axis(rows.index))
    return features.model_frame(with_population)


def score(raw: pd.DataFrame, model: LoadedModel, ticket_lookup: TicketLookup) -> Scored:
    inputs = model_inputs(raw, ticket_lookup)
    ids = [None if pd.isna(v) else int(v) for v in raw[schema.ID].tolist()]
    return Scored(ids, model.probabilities(inputs), inputs)


def score_features(passenger_ids: Sequence[int], stored: pd.DataFrame, model: LoadedModel) -> Scored:
    """Predictions for vectors read whole from the online store (prediction by PassengerId)."""
    inputs = features.model_frame(stored)
    return Scored(list(passenger_ids), model.probabilities(inputs), inputs)


def submission(scored: Scored) -> pd.DataFrame:
    """The Kaggle submission: PassengerId,Survived."""
    return pd.DataFrame({schema.ID: scored.passenger_ids, schema.LABEL: scored.survived})
