"""The HTTP client of the running API (httpx): traffic out, ground truth after it.

`titanic-mlops simulate` draws the traffic (`domain.traffic`) and sends it with `send`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from titanic_mlops.domain import schema
from titanic_mlops.domain.traffic import records


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
