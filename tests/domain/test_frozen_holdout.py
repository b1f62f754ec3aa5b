"""A frozen holdout: feedback passengers change neither the holdout's inputs nor a version's metrics.

Feedback reuses Kaggle tickets; before the holdout was frozen, a retraining on feedback moved
`ticket_group_size` and `fare_per_person` of holdout passengers, and v1 re-evaluated after it
scored differently from its registration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from titanic_mlops.domain import evaluation, features, schema, training
from titanic_mlops.domain.metrics import EvaluationReport
from titanic_mlops.domain.params import SplitParams

DATA = Path(__file__).resolve().parents[2] / "data" / "external" / "titanic" / "train.csv"
EVENT = datetime(2020, 1, 1, tzinfo=UTC)


def snapshot() -> pd.DataFrame:
    raw = pd.read_csv(DATA).astype(dict.fromkeys(("Name", "Sex", "Ticket", "Cabin", "Embarked"), "string"))
    return raw.assign(**{schema.SOURCE: schema.SOURCE_SNAPSHOT})


def feedback(raw: pd.DataFrame) -> pd.DataFrame:
    """Feedback rows that reuse the snapshot's most shared tickets (as the demo's do)."""
    rows = raw[raw["Ticket"].isin(raw["Ticket"].value_counts().index[:40])].copy()
    rows[schema.ID] = rows[schema.ID] + 10_000
    rows[schema.LABEL] = 1 - rows[schema.LABEL]
    return rows.assign(**{schema.SOURCE: schema.SOURCE_FEEDBACK})


def labelled_table(labelled: pd.DataFrame, population: pd.Series) -> pd.DataFrame:
    """The feature stage's table joined back to labels and sources, as training reads it."""
    table = features.build_feature_table(
        labelled.drop(columns=[schema.LABEL, schema.SOURCE]), EVENT, population
    )
    keyed = labelled.set_index(schema.ID)
    table[schema.LABEL] = keyed.loc[table[features.ENTITY], schema.LABEL].to_numpy()
    table[schema.SOURCE] = keyed.loc[table[features.ENTITY], schema.SOURCE].to_numpy()
    return table


def test_v1_re_evaluated_after_feedback_reproduces_its_registered_metrics() -> None:
    raw = snapshot()
    before = labelled_table(raw, raw["Ticket"])
    train_index, holdout_index = training.split_holdout(before, SplitParams(seed=42, holdout_fraction=0.2))
    v1 = training.fit_selected(
        features.coerce_inputs(before.loc[train_index]),
        before.loc[train_index, schema.LABEL],
        training.Selection("logistic_regression", {"C": 0.3}, 0.0, 0.0, []),
        seed=42,
    )

    def holdout_report(table: pd.DataFrame, index: pd.Index) -> EvaluationReport:
        rows = table.loc[index]
        return evaluation.evaluate(v1, features.coerce_inputs(rows), rows[schema.LABEL].to_numpy())

    registered = holdout_report(before, holdout_index)
    after = labelled_table(pd.concat([raw, feedback(raw)]), raw["Ticket"])
    _, holdout_after = training.split_holdout(after, SplitParams(seed=42, holdout_fraction=0.2))
    assert list(after.loc[holdout_after, features.ENTITY]) == list(before.loc[holdout_index, features.ENTITY])
    snapshot_rows = after[after[schema.SOURCE] == schema.SOURCE_SNAPSHOT].reset_index(drop=True)
    pd.testing.assert_frame_equal(snapshot_rows, before)  # every snapshot passenger, every input
    assert holdout_report(after, holdout_after) == registered


def test_counting_feedback_would_have_moved_the_holdout() -> None:
    """The test above can fail: with feedback in the population the holdout's inputs move."""
    raw = snapshot()
    labelled = pd.concat([raw, feedback(raw)])
    frozen = labelled_table(labelled, raw["Ticket"])
    moving = labelled_table(labelled, labelled["Ticket"])
    snapshot_rows = frozen[schema.SOURCE] == schema.SOURCE_SNAPSHOT
    changed = frozen.loc[snapshot_rows, "ticket_group_size"] != moving.loc[snapshot_rows, "ticket_group_size"]
    assert changed.sum() > 100
