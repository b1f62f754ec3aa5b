"""Explanations: why the model said what it said, per passenger (API, batch) and overall (training).

SHAP values from the registered scikit-learn pipeline against the version's background sample
(its sidecar), one per model input, in the space where they add up (`adapters.shap_explainer`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import shap_explainer
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain import features, schema
from titanic_mlops.domain.anomaly import Sidecar
from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.domain.versions import ModelRef


class NoExplainer(TitanicMlopsError):
    """The version was registered without a sidecar, so there is no background to explain against."""


def explainer_for(pipeline: Any, sidecar: Sidecar) -> shap_explainer.PipelineExplainer:
    return shap_explainer.PipelineExplainer(pipeline, sidecar.background_frame(), features.MODEL_INPUTS)


def explain_columns(
    explainer: shap_explainer.PipelineExplainer, inputs: Mapping[str, np.ndarray]
) -> shap_explainer.Explained:
    return explainer.explain(features.inputs_frame(inputs))


def explanation_rows(
    explained: shap_explainer.Explained, passenger_ids: list[int | None]
) -> list[dict[str, Any]]:
    """One entry per passenger, as `/explain` answers and the batch CSV flattens."""
    return [
        {
            "passenger_id": pid,
            "probability": float(explained.probability[i]),
            "base_value": float(explained.base_value[i]),
            "space": explained.space,
            "contributions": {k: float(v) for k, v in explained.contributions.iloc[i].items()},
        }
        for i, pid in enumerate(passenger_ids)
    ]


def explanation_table(explained: shap_explainer.Explained, passenger_ids: list[int | None]) -> pd.DataFrame:
    """The batch CSV: PassengerId, probability, base_value, space, then one column per input."""
    head = pd.DataFrame(
        {
            schema.ID: pd.array(passenger_ids, dtype="Int64"),
            "probability": explained.probability,
            "base_value": explained.base_value,
            "space": explained.space,
        }
    )
    return pd.concat([head, explained.contributions.reset_index(drop=True)], axis=1)


def global_summary(
    pipeline: Any, sidecar: Sidecar, inputs: pd.DataFrame, folder: Path
) -> tuple[dict[str, float], pd.DataFrame]:
    """Mean |SHAP| per model input on `inputs` (the holdout): a CSV, a summary plot, metrics."""
    explained = explainer_for(pipeline, sidecar).explain(inputs)
    table = (
        explained.contributions.abs()
        .mean()
        .rename("mean_abs_shap")
        .rename_axis("feature")
        .reset_index()
        .sort_values("mean_abs_shap", ascending=False, ignore_index=True)
    )
    atomic.write_csv(folder / "shap_importance.csv", table)
    shap_explainer.write_summary_plot(explained, inputs, folder / "shap_summary.png")
    metrics = {
        f"shap_mean_abs.{name}": float(value)
        for name, value in zip(table["feature"], table["mean_abs_shap"], strict=True)
    }
    return metrics, table


class ExplainerCache:
    """The explainer of the version serving now, built on first use (pipeline + sidecar load)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._current: tuple[str, shap_explainer.PipelineExplainer] | None = None

    def get(self, ref: ModelRef) -> shap_explainer.PipelineExplainer:
        with self._lock:
            if self._current is not None and self._current[0] == ref.version:
                return self._current[1]
            text = self.registry.load_sidecar(ref)
            if text is None:
                raise NoExplainer(f"{ref.uri} was registered without a sidecar: retrain to explain it")
            explainer = explainer_for(self.registry.load_sklearn(ref), Sidecar.from_json(text))
            self._current = (ref.version, explainer)
            return explainer
