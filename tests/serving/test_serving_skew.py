"""The skew test: for every known passenger, the vector /predict builds from the full record equals
the batch path's vector and the Feast online store's vector for that PassengerId."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from titanic_mlops import feature_store, features, ingest, prediction, request_features
from titanic_mlops.registry import CHAMPION

from .conftest import ServingState

pytestmark = pytest.mark.slow


def known_passengers(workspace: Any) -> pd.DataFrame:
    raw = workspace.path("data/external/titanic")
    train = ingest.read_raw_csv(raw / "train.csv", labelled=True).drop(columns="Survived")
    test = ingest.read_raw_csv(raw / "test.csv", labelled=False)
    return pd.concat([train, test], ignore_index=True)


def test_request_batch_and_online_vectors_are_equal_for_every_passenger(
    trained_workspace: Any, serving_state: ServingState
) -> None:
    from serving.schemas import Passenger

    passengers = known_passengers(trained_workspace)
    assert len(passengers) == 1309
    settings = serving_state.settings()
    store = feature_store.open_store(settings.feature_repo, settings.state)
    sizes = request_features.TicketSizes(lambda t: feature_store.online_ticket_group_sizes(store, t))

    records = [
        Passenger.model_validate({k: (None if pd.isna(v) else v) for k, v in row.items()}).model_dump()
        for row in passengers.astype(object).to_dict("records")
    ]
    group = sizes.sizes([str(r["Ticket"]) for r in records])
    request = request_features.vectors_frame(
        [request_features.record_vector(r, g) for r, g in zip(records, group, strict=True)]
    )
    batch = prediction.model_inputs(prediction.records_frame(records), sizes)
    ids = passengers["PassengerId"].astype(int).tolist()
    online = features.model_frame(feature_store.online_passenger_features(store, ids)).reset_index(drop=True)

    assert list(request.columns) == list(features.MODEL_FEATURES)
    pd.testing.assert_frame_equal(request, batch)
    pd.testing.assert_frame_equal(request, online)

    registry = serving_state.registry()
    champion = registry.require(CHAMPION)
    model = prediction.load_model(registry, champion, "onnx")
    assert (model.probabilities(request) == model.probabilities(online)).all()
    assert isinstance(model.scorer, request_features.ColumnScorer)
    scored = request_features.score_records(records, model, sizes)
    assert (scored.probability == model.probabilities(online)).all()  # the columnar path /predict runs
