"""The SHAP adapter, the only module that imports shap: a fitted pipeline's prediction, explained.

Generic over a scikit-learn Pipeline: every step but the last transforms, the last estimator is
explained in the transformed space (LinearExplainer for linear models, TreeExplainer for tree
ensembles, against a background sample), and the contributions of the columns one model input
became (a one-hot category per level) are summed back to that input: sums keep additivity, so
`base_value + sum(contributions)` is still the model's output. That output is the logit for
logistic regression and boosting, the probability for a random forest; the space is found by
checking which one the values add up to, never assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from titanic_mlops.domain.errors import TitanicMlopsError

Space = Literal["logit", "probability"]
ADDITIVITY_TOLERANCE = 1e-3


class ExplanationError(TitanicMlopsError):
    """The model cannot be explained (an unknown family, or values that do not add up)."""


@dataclass(frozen=True)
class Explained:
    """Per row: P(survived), the base value, the space both live in, one value per model input."""

    probability: np.ndarray
    base_value: np.ndarray
    space: Space
    contributions: pd.DataFrame  # rows x model inputs


class PipelineExplainer:
    """Built once per model version (~25 ms); explaining one passenger then takes ~1-3 ms."""

    def __init__(self, pipeline: Any, background: pd.DataFrame, inputs: Sequence[str]) -> None:
        self.pipeline = pipeline
        self.inputs = tuple(inputs)
        self._preprocess = pipeline[:-1]
        self._estimator = pipeline[-1]
        transformed = np.asarray(self._preprocess.transform(background), dtype=np.float64)
        self._owner = _owners(
            list(self._preprocess.get_feature_names_out()), self.inputs, _branches(self._preprocess)
        )
        self._explainer = _explainer_for(self._estimator, transformed)

    def explain(self, frame: pd.DataFrame) -> Explained:
        transformed = np.asarray(self._preprocess.transform(frame[list(self.inputs)]), dtype=np.float64)
        result = self._explainer(transformed)
        values = np.asarray(result.values, dtype=np.float64)
        base = np.asarray(result.base_values, dtype=np.float64)
        if values.ndim == 3:  # one slice per class: P(survived) is class 1
            values, base = values[:, :, 1], base[:, 1]
        base = np.broadcast_to(base.reshape(-1), (len(frame),)).copy()
        probability = np.asarray(self._estimator.predict_proba(transformed), dtype=np.float64)[:, 1]
        space = _space(base + values.sum(axis=1), probability)
        grouped = pd.DataFrame(values, columns=self._owner).T.groupby(level=0, sort=False).sum().T
        return Explained(probability, base, space, grouped.reindex(columns=list(self.inputs), fill_value=0.0))


def _explainer_for(estimator: Any, background: np.ndarray) -> Any:
    import shap

    if hasattr(estimator, "coef_"):
        return shap.LinearExplainer(estimator, background)
    if hasattr(estimator, "estimators_"):
        return shap.TreeExplainer(
            estimator, data=background, feature_perturbation="interventional", model_output="raw"
        )
    raise ExplanationError(f"no SHAP explainer for a {type(estimator).__name__}: linear or tree models only")


def _branches(preprocess: Any) -> dict[str, list[str]]:
    """The input columns of each ColumnTransformer branch, by branch name (empty if there is none)."""
    for step in getattr(preprocess, "steps", [(None, preprocess)]):
        transformer = step[1]
        if hasattr(transformer, "transformers_"):
            return {name: list(cols) for name, _, cols in transformer.transformers_ if isinstance(cols, list)}
    return {}


def _owners(
    columns: list[str], inputs: tuple[str, ...], branches: dict[str, list[str]] | None = None
) -> list[str]:
    """The model input each transformed column came from (`categorical__sex_male` -> `sex`).

    A column whose name is not an input's (the fitted group survival, `group__group_survival`)
    belongs to its branch's one input column (`wcg_group`).
    """
    owners = []
    for column in columns:
        branch, _, name = column.rpartition("__")
        matches = [i for i in inputs if name == i or name.startswith(f"{i}_")]
        single = (branches or {}).get(branch, [])
        if not matches and len(single) == 1 and single[0] in inputs:
            matches = single
        if not matches:
            raise ExplanationError(f"transformed column {column!r} maps to no model input")
        owners.append(max(matches, key=len))  # `fare_per_person` before `fare`
    return owners


def _space(total: np.ndarray, probability: np.ndarray) -> Space:
    clipped = np.clip(probability, 1e-12, 1 - 1e-12)
    if np.all(np.abs(total - np.log(clipped / (1 - clipped))) <= ADDITIVITY_TOLERANCE):
        return "logit"
    if np.all(np.abs(total - probability) <= ADDITIVITY_TOLERANCE):
        return "probability"
    raise ExplanationError("SHAP values add up to neither the probability nor its logit")


def write_summary_plot(explained: Explained, inputs: pd.DataFrame, path: Path) -> None:
    """SHAP's beeswarm summary of the rows explained, one line per model input, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    numeric = inputs[list(explained.contributions.columns)].apply(
        lambda c: pd.factorize(c)[0] if c.dtype == object else c
    )
    shap.summary_plot(
        explained.contributions.to_numpy(),
        features=numeric.to_numpy(dtype=np.float64),
        feature_names=list(explained.contributions.columns),
        show=False,
    )
    figure = plt.gcf()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
