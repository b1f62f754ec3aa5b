"""The prediction log's row format, shared by every backend: same columns, same JSON, same frames."""

from __future__ import annotations

import json
from typing import Any, Final

import pandas as pd

from titanic_mlops.stores.interfaces import LoggedPrediction

# Table order after `id`; the `features` column holds the model inputs as JSON.
PREDICTION_COLUMNS: Final = (
    "id", "request_id", "ts", "model_name", "model_version", "passenger_id", "record", "features",
    "probability", "survived", "latency_ms",
)  # fmt: skip
FEEDBACK_COLUMNS: Final = ("id", "ts", "prediction_id", "label")
# Built once: json.dumps with keyword arguments builds a new encoder per call (~1 us a row each).
_RECORD_JSON = json.JSONEncoder(default=str).encode
_INPUTS_JSON = json.JSONEncoder(allow_nan=False).encode


def row_values(rows: list[LoggedPrediction], now: float) -> list[tuple[Any, ...]]:
    """The `predictions` columns after `id`, in table order, as every store inserts them."""
    return [
        (
            r.request_id,
            now,
            r.model_name,
            r.model_version,
            r.passenger_id,
            _RECORD_JSON(r.record),
            _INPUTS_JSON(_clean(r.inputs)),
            float(r.probability),
            int(r.survived),
            float(r.latency_ms),
        )
        for r in rows
    ]


def expand(frame: pd.DataFrame) -> pd.DataFrame:
    """The logged model inputs as `f_<input>` columns beside the row's own."""
    if frame.empty:
        return frame
    inputs = pd.DataFrame([json.loads(v) for v in frame["features"]], index=frame.index)
    return frame.join(inputs.add_prefix("f_"))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """NaN is not JSON: a missing input is logged as null."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in values.items()}
