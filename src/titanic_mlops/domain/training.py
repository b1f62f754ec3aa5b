"""Model search and fitting: pure functions from model inputs and params to a fitted pipeline.

Selection is repeated stratified cross-validation (`cv_folds` x `cv_repeats`), scored on the
served decision (accuracy at `schema.THRESHOLD`) and on ranking (ROC AUC). The winner is the
SIMPLEST candidate whose primary score is within one corrected standard error of the best
(candidates are listed simplest first in params.yaml): on 712 rows most differences between
configurations are noise, and the simpler model is the one that generalises.

The served model is fitted on the training split only, never refit on the holdout: the gate then
judges exactly the artifact that serves, on passengers it has never seen.
"""

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
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from titanic_mlops.domain import features, schema
from titanic_mlops.domain.group_survival import GroupSurvival
from titanic_mlops.domain.params import SplitParams, TrainParams

# What cross-validation scores: the served decision and the ranking.
SCORES = ("accuracy", "roc_auc")


@dataclass(frozen=True)
class LeaderboardRow:
    """One candidate configuration's cross-validated scores (`cv_*` is the primary metric)."""

    family: str
    params: dict[str, Any]
    cv_mean: float
    cv_std: float
    rank_in_family: int
    accuracy_mean: float = 0.0
    accuracy_std: float = 0.0
    auc_mean: float = 0.0
    auc_std: float = 0.0
    # Nadeau-Bengio corrected standard error of cv_mean: folds share training rows, so the
    # naive std/sqrt(folds) is far too small.
    cv_se: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Selection:
    """The chosen configuration, its scores with their spread, and the rule that chose it."""

    family: str
    params: dict[str, Any]
    cv_score: float
    cv_std: float
    leaderboard: list[LeaderboardRow]
    accuracy_mean: float = 0.0
    accuracy_std: float = 0.0
    auc_mean: float = 0.0
    auc_std: float = 0.0
    rule: str = ""


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
            ("group", GroupSurvival(), list(features.KEYS)),
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
    """One family's grid, repeated-cross-validated: its leaderboard rows (one unit of cluster work)."""
    folds = RepeatedStratifiedKFold(
        n_splits=params.cv_folds, n_repeats=params.cv_repeats, random_state=params.seed
    )
    grid = params.candidates[family]
    search = GridSearchCV(
        build_pipeline(estimator_for(family, params.seed)),
        {f"model__{key}": values for key, values in grid.items()},
        scoring={"accuracy": served_accuracy, "roc_auc": "roc_auc"},
        refit=False,
        cv=folds,
        n_jobs=1,
    )
    search.fit(inputs, labels)
    return leaderboard_rows(family, search.cv_results_, params)


def served_accuracy(estimator: Any, x: pd.DataFrame, y: Any) -> float:
    """Accuracy of the decision serving makes: P(survived) >= THRESHOLD."""
    decided = (estimator.predict_proba(x)[:, 1] >= schema.THRESHOLD).astype(int)
    return float(accuracy_score(y, decided))


def leaderboard_rows(family: str, results: dict[str, Any], params: TrainParams) -> list[LeaderboardRow]:
    """GridSearchCV's results as typed rows, in grid order (the order simplicity is judged in)."""
    primary = params.primary_metric
    ranks = results[f"rank_test_{primary}"]
    folds = params.cv_folds * params.cv_repeats
    correction = np.sqrt(1.0 / folds + 1.0 / (params.cv_folds - 1))
    return [
        LeaderboardRow(
            family=family,
            params={k.removeprefix("model__"): _plain(v) for k, v in candidate.items()},
            cv_mean=_r(results[f"mean_test_{primary}"][i]),
            cv_std=_r(results[f"std_test_{primary}"][i]),
            rank_in_family=int(ranks[i]),
            accuracy_mean=_r(results["mean_test_accuracy"][i]),
            accuracy_std=_r(results["std_test_accuracy"][i]),
            auc_mean=_r(results["mean_test_roc_auc"][i]),
            auc_std=_r(results["std_test_roc_auc"][i]),
            cv_se=_r(results[f"std_test_{primary}"][i] * correction),
        )
        for i, candidate in enumerate(results["params"])
    ]


def choose(board: list[LeaderboardRow]) -> Selection:
    """The first (simplest) row within one corrected standard error of the best mean score."""
    if not board:
        raise ValueError("params.yaml train.candidates: no model family to search")
    best = max(board, key=lambda row: row.cv_mean)
    bar = best.cv_mean - best.cv_se
    chosen = next(row for row in board if row.cv_mean >= bar)
    rule = (
        f"simplest within one standard error of the best ({best.family} {best.params}: "
        f"{best.cv_mean:.4f} - {best.cv_se:.4f} = {bar:.4f})"
    )
    return Selection(
        chosen.family,
        chosen.params,
        chosen.cv_mean,
        chosen.cv_std,
        board,
        accuracy_mean=chosen.accuracy_mean,
        accuracy_std=chosen.accuracy_std,
        auc_mean=chosen.auc_mean,
        auc_std=chosen.auc_std,
        rule=rule,
    )


def fit_selected(inputs: pd.DataFrame, labels: pd.Series, selection: Selection, seed: int) -> Pipeline:
    pipeline = build_pipeline(estimator_for(selection.family, seed))
    pipeline.set_params(**{f"model__{k}": v for k, v in selection.params.items()})
    return pipeline.fit(inputs, labels)


def _r(value: Any) -> float:
    return round(float(value), 6)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
