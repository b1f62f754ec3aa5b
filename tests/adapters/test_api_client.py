"""The API client reads each answer's model version per passenger."""

from __future__ import annotations

import pytest

from titanic_mlops.adapters import api_client


def test_prediction_rows_carry_the_answer_s_model_version() -> None:
    payload = {"model_name": "m", "model_version": "3", "predictions": [{"prediction_id": 1, "survived": 0}]}
    assert api_client.prediction_rows(payload) == [{"model_version": "3", "prediction_id": 1, "survived": 0}]
    with pytest.raises(ValueError, match="predictions"):
        api_client.prediction_rows({"detail": "oops"})
