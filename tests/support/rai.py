"""Snapshot passengers as model inputs, and small fitted pipelines, for the responsible-AI tests.

Built from data/external/titanic/train.csv with the one feature implementation (no Feast, no
MLflow), cached per process: fitting the three families takes about a second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops.domain import features, schema, training

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "data" / "external" / "titanic" / "train.csv"
PARAMS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 1.0},
    "gradient_boosting": {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1},
    "random_forest": {"n_estimators": 100, "max_depth": 6, "min_samples_leaf": 3},
}


@cache
def snapshot() -> tuple[pd.DataFrame, np.ndarray]:
    """Every labelled snapshot passenger: model inputs (as training coerces them) and labels."""
    raw = pd.read_csv(SNAPSHOT)
    table = features.build_feature_table(raw, datetime(2020, 1, 1, tzinfo=UTC))
    labels = raw.set_index(schema.ID).loc[table[features.ENTITY], schema.LABEL].to_numpy()
    return features.coerce_inputs(table), labels.astype("int64")


@cache
def fitted(family: str) -> Any:
    inputs, labels = snapshot()
    selection = training.Selection(family, PARAMS[family], 0.0, 0.0, [])
    return training.fit_selected(inputs, pd.Series(labels, index=inputs.index), selection, seed=42)


def inputs_of(**values: Any) -> pd.DataFrame:
    """One passenger's model inputs: BRAUND's vector with `values` changed."""
    from tests.support.samples import VECTOR

    return features.coerce_inputs(pd.DataFrame([{**VECTOR, **values}]))
