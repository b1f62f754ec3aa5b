"""Model search and fitting: pure functions from model inputs and params to a fitted pipeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from titanic_mlops.domain import features, schema
from titanic_mlops.domain.params import SplitParams, TrainParams


@dataclass(frozen=True)
class LeaderboardRow:
    """One candidate configuration's cross-validated score."""

    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_std: float
    rank_in_family: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Selection:
    family: str
    params: dict[str, Any]
    cv_score: float
    cv_std: float
    leaderboard: list[LeaderboardRow]


def estimator_for(family: str, seed: int) -> ClassifierMixin:
    """The model families the search may use; each one converts to ONNX for serving."""
    if family == "logistic_regression":
        return LogisticRegression(max_iter=2000, random_state=seed)
    if family == "random_forest":
        return RandomForestClassifier(random_state=seed, n_jobs=1)
    if family == "gradient_boosting":
        return GradientBoostingClassifier(random_state=seed)
    raise ValueError(f"unknown model family in params.yaml train.candidates: {family!r}")


def build_pipeline(estimator: ClassifierMixin) -> Pipeline:
    """Imputation and encoding travel inside the registered model, fitted on training rows only.

    Only linear models are scaled: trees compare raw values, and raw values keep the ONNX graph
    (float32 inputs) on the same side of every split as scikit-learn, which also casts to float32.
    """
    steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if isinstance(estimator, LogisticRegression):
        steps.append(("scale", StandardScaler()))
    numeric = Pipeline(steps)
    categorical = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    preprocess = ColumnTransformer(
        [
            ("numeric", numeric, list(features.NUMERIC)),
            ("categorical", categorical, list(features.CATEGORICAL)),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def split_holdout(table: pd.DataFrame, params: SplitParams) -> tuple[pd.Index, pd.Index]:
    """Stratified split of the upstream snapshot only, so feedback never moves the holdout."""
    snapshot = table[table[schema.SOURCE] == schema.SOURCE_SNAPSHOT]
    _, holdout = train_test_split(
        snapshot.index,
        test_size=params.holdout_fraction,
        random_state=params.seed,
        stratify=snapshot[schema.LABEL],
    )
    holdout_index = pd.Index(sorted(holdout))
    return table.index.difference(holdout_index), holdout_index


def select_model(inputs: pd.DataFrame, labels: pd.Series, params: TrainParams) -> Selection:
    """Cross-validated grid search per family; the best mean score wins, ties to the simpler."""
    return choose(
        [row for family in params.candidates for row in search_family(inputs, labels, family, params)]
    )


def search_family(
    inputs: pd.DataFrame, labels: pd.Series, family: str, params: TrainParams
) -> list[LeaderboardRow]:
    """One family's grid, cross-validated: its leaderboard rows (a unit of work a cluster can take)."""
    folds = StratifiedKFold(n_splits=params.cv_folds, shuffle=True, random_state=params.seed)
    grid = params.candidates[family]
    search = GridSearchCV(
        build_pipeline(estimator_for(family, params.seed)),
        {f"model__{key}": values for key, values in grid.items()},
        scoring=params.primary_metric,
        cv=folds,
        n_jobs=1,
    )
    search.fit(inputs, labels)
    results = search.cv_results_
    return [
        LeaderboardRow(
            family=family,
            params={k.removeprefix("model__"): _plain(v) for k, v in candidate.items()},
            cv_mean=round(float(mean), 6),
            cv_std=round(float(std), 6),
            rank_in_family=int(rank),
        )
        for rank, mean, std, candidate in zip(
            results["rank_test_score"],
            results["mean_test_score"],
            results["std_test_score"],
            results["params"],
            strict=True,
        )
    ]


def choose(board: list[LeaderboardRow]) -> Selection:
    """The best mean CV score; on a tie the earlier row (families in params.yaml order) wins."""
    if not board:
        raise ValueError("params.yaml train.candidates: no model family to search")
    best = max(board, key=lambda row: row.cv_mean)
    return Selection(best.family, best.params, best.cv_mean, best.cv_std, board)


def fit_selected(inputs: pd.DataFrame, labels: pd.Series, selection: Selection, seed: int) -> Pipeline:
    pipeline = build_pipeline(estimator_for(selection.family, seed))
    pipeline.set_params(**{f"model__{k}": v for k, v in selection.params.items()})
    return pipeline.fit(inputs, labels)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
