"""Sample inputs many test modules share: one Kaggle record, one model input vector, a policy."""

from __future__ import annotations

from typing import Any

from titanic_mlops.domain import schema
from titanic_mlops.domain.params import MonitorParams
from titanic_mlops.domain.records import CycleResult

# Kaggle test.csv's first passenger, as /predict takes it.
PASSENGER: dict[str, Any] = dict(schema.EXAMPLE_PASSENGER)

# train.csv's first passenger, without the label.
BRAUND: dict[str, Any] = {
    "PassengerId": 1,
    "Pclass": 3,
    "Name": "Braund, Mr. Owen Harris",
    "Sex": "male",
    "Age": 22.0,
    "SibSp": 1,
    "Parch": 0,
    "Ticket": "A/5 21171",
    "Fare": 7.25,
    "Cabin": None,
    "Embarked": "S",
}

# The 15 model inputs of BRAUND.
VECTOR: dict[str, Any] = {
    "pclass": 3,
    "age": 22.0,
    "sibsp": 1,
    "parch": 0,
    "fare": 7.25,
    "family_size": 2,
    "is_alone": 0,
    "has_cabin": 0,
    "ticket_group_size": 1,
    "fare_per_person": 7.25,
    "sex": "male",
    "embarked": "S",
    "title": "Mr",
    "deck": "U",
    "wcg_group": "",  # a man: no woman-child group
}


def monitor_params(**changes: Any) -> MonitorParams:
    """A monitoring policy small enough for test windows; `changes` override single keys."""
    values: dict[str, Any] = {
        "min_window_rows": 100,
        "drift_share_threshold": 0.3,
        "column_drift_p_value": 0.01,
        "consecutive_windows": 2,
        "quality_floor": 0.72,
        "min_labelled_rows": 50,
        "cooldown_minutes": 10,
        "feedback_holdout_fraction": 0.3,
        "min_feedback_rows": 50,
    }
    return MonitorParams(**{**values, **changes})


def cycle(**changes: Any) -> CycleResult:
    """A judged monitoring cycle that asked for a retraining; `changes` override single fields."""
    values: dict[str, Any] = {
        "time": 1.5e9,
        "model_name": "titanic-survival",
        "window_rows": 150,
        "drift_share": 0.25,
        "drift_detected": True,
        "drifted_columns": 3,
        "live_accuracy": 0.61,
        "action": "retrain",
        "reason": "drift share 0.25 >= 0.20 (2 of 2 windows)",
    }
    return CycleResult(**{**values, **changes})
