"""Deterministic production traffic drawn from the snapshot, and its delayed ground truth.

`draw` is pure (frame in, frame out, same seed -> same rows); `send` posts the records to a
running API's `POST /predict` and then the labels to `POST /feedback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import schema
from titanic_mlops.scenarios import Scenario

FIRST_ID = 100_000
ID_BLOCK = 100_000
_AGE_FLOOR = 0.5


def first_id_for(seed: int) -> int:
    """Each seed gets its own PassengerId block, so two runs never reuse an id."""
    return FIRST_ID + seed * ID_BLOCK


def draw(snapshot: pd.DataFrame, scenario: Scenario, rows: int, seed: int) -> pd.DataFrame:
    """`rows` Kaggle records with their ground truth (`Survived`) from the scenario's world."""
    if rows < 1 or rows > ID_BLOCK:
        raise ValueError(f"rows must be between 1 and {ID_BLOCK}, not {rows}")
    if schema.LABEL not in snapshot.columns:
        raise ValueError("the snapshot needs its Survived column to give the traffic ground truth")
    rng = np.random.default_rng(seed)
    weights = np.ones(len(snapshot))
    for column, table in scenario.weights.items():
        keys = snapshot[column].astype("string").fillna("")
        weights *= keys.map(lambda value, t=table: t.get(str(value), 1.0)).to_numpy(dtype=float)
    picks = rng.choice(len(snapshot), size=rows, replace=True, p=weights / weights.sum())
    out = snapshot.iloc[picks].reset_index(drop=True).copy()
    for column, delta in scenario.shift.items():
        out[column] = (out[column] + delta).clip(lower=_AGE_FLOOR).round(1)
    for column, factor in scenario.scale.items():
        out[column] = (out[column] * factor).round(4)
    if scenario.region is not None:
        eligible = np.ones(rows, dtype=bool)
        for column, values in scenario.region.where.items():
            eligible &= out[column].astype("string").isin(values).to_numpy(dtype=bool)
        inside = eligible & (rng.random(rows) < scenario.region.fraction)
        for column, (low, high) in scenario.region.uniform.items():
            out.loc[inside, column] = np.floor(rng.uniform(low, high, int(inside.sum())))
        out.loc[inside, schema.LABEL] = scenario.region.survived
    out[schema.ID] = first_id_for(seed) + np.arange(rows)
    return out[schema.raw_columns(labelled=True)]


def records(traffic: pd.DataFrame) -> list[dict[str, Any]]:
    """The request bodies' instances: Kaggle columns, no label, a gap as null."""
    frame = traffic[schema.raw_columns(labelled=False)].astype(object)
    return [
        {str(k): (None if _missing(v) else _plain(v)) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@dataclass
class SendResult:
    scenario: str
    rows: int
    predicted: int = 0
    labelled: int = 0
    failed_requests: int = 0
    model_versions: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "rows": self.rows,
            "predicted": self.predicted,
            "labelled": self.labelled,
            "failed_requests": self.failed_requests,
            "model_versions": self.model_versions,
            "errors": self.errors[:5],
        }


def send(
    url: str,
    traffic: pd.DataFrame,
    scenario: str,
    batch_size: int = 50,
    label_fraction: float = 1.0,
    timeout: float = 30.0,
) -> SendResult:
    """Predict every record in batches, then send the ground truth of `label_fraction` of them."""
    import httpx

    result = SendResult(scenario=scenario, rows=len(traffic))
    labels = traffic[schema.LABEL].astype(int).tolist()
    bodies = records(traffic)
    feedback: list[dict[str, int]] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        for start in range(0, len(bodies), batch_size):
            response = client.post("/predict", json={"instances": bodies[start : start + batch_size]})
            if response.status_code != 200:
                result.failed_requests += 1
                result.errors.append(f"/predict {response.status_code}: {response.text[:200]}")
                continue
            answered = prediction_rows(response.json())
            result.predicted += len(answered)
            for offset, row in enumerate(answered):
                version = str(row.get("model_version"))
                result.model_versions[version] = result.model_versions.get(version, 0) + 1
                feedback.append(
                    {"prediction_id": int(row["prediction_id"]), "survived": labels[start + offset]}
                )
        chosen = feedback[: round(len(feedback) * label_fraction)]
        for start in range(0, len(chosen), batch_size):
            response = client.post("/feedback", json=chosen[start : start + batch_size])
            if response.status_code >= 300:
                result.failed_requests += 1
                result.errors.append(f"/feedback {response.status_code}: {response.text[:200]}")
                continue
            result.labelled += len(chosen[start : start + batch_size])
    return result


def prediction_rows(payload: Any) -> list[dict[str, Any]]:
    """Per-passenger answers of `POST /predict`, each with its `model_version`."""
    if isinstance(payload, list):
        return [dict(row) for row in payload]
    rows = payload.get("predictions")
    if not isinstance(rows, list):
        raise ValueError(f"/predict answered without a 'predictions' list: {str(payload)[:200]}")
    version = payload.get("model_version")
    return [{"model_version": version, **row} for row in rows]


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
