"""The skew test: for every known passenger, the inputs /predict builds from the full record equal
the batch path's, the Feast offline source's and the online store's for that PassengerId."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from titanic_mlops.adapters import feast_store
from titanic_mlops.domain import features
from titanic_mlops.domain.ingest import type_columns
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import ingest, scoring
from titanic_mlops.services.deployment import Deployment

from .conftest import ServingState

pytestmark = pytest.mark.slow


def known_passengers(workspace: Any) -> pd.DataFrame:
    raw = workspace.path("data/external/titanic")
    train = ingest.read_raw_csv(raw / "train.csv", labelled=True).drop(columns="Survived")
    test = ingest.read_raw_csv(raw / "test.csv", labelled=False)
    return pd.concat([train, test], ignore_index=True)


def test_request_batch_and_online_inputs_are_equal_for_every_passenger(
    trained_workspace: Any, serving_state: ServingState
) -> None:
    from serving.schemas import Passenger

    passengers = known_passengers(trained_workspace)
    assert len(passengers) == 1309
    deployment = Deployment(serving_state.settings())
    store = deployment.feature_store()
    sizes = deployment.ticket_sizes(store)
    records = [
        Passenger.model_validate({k: (None if pd.isna(v) else v) for k, v in row.items()}).model_dump()
        for row in passengers.astype(object).to_dict("records")
    ]
    registry = serving_state.registry()
    model = scoring.load_model(registry, registry.require(CHAMPION), "onnx")

    request = scoring.score_records(records, model, sizes)
    batch = scoring.score_frame(type_columns(passengers.astype("string"), labelled=False), model, sizes)
    ids = passengers["PassengerId"].astype(int).tolist()
    online = features.coerce_inputs(feast_store.online_passenger_features(store, ids))
    offline = pd.read_parquet(trained_workspace.layout.passengers).sort_values("passenger_id")

    frame = features.inputs_frame(request.inputs)
    assert list(frame.columns) == list(features.MODEL_INPUTS)
    pd.testing.assert_frame_equal(frame, features.inputs_frame(batch.inputs))
    pd.testing.assert_frame_equal(frame, online)
    pd.testing.assert_frame_equal(frame, features.coerce_inputs(offline.reset_index(drop=True)))
    stored = scoring.score_stored(ids, store, model)
    assert (request.probability == stored.probability).all()
    assert (request.probability == batch.probability).all()
