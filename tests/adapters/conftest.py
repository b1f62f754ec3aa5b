"""The adapters' shared test data."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.support.workspace import RAW_TRAIN
from titanic_mlops.domain import features, monitoring_data
from titanic_mlops.services import ingest


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The training snapshot as the monitor's reference: model inputs and a women-survive probability."""
    train = ingest.read_raw_csv(RAW_TRAIN, labelled=True)
    table = features.build_feature_table(train.drop(columns="Survived"), datetime(2020, 1, 1, tzinfo=UTC))
    frame = monitoring_data.reference_frame(train, table)
    return monitoring_data.with_probability(frame, (frame["sex"] == "female").astype(float) * 0.8 + 0.1)
