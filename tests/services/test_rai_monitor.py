"""The monitoring cycle's responsible-AI measures: the anomalous share and fairness by group."""

from __future__ import annotations

import pandas as pd

from tests.services.test_anomaly import detector
from tests.support.rai import fitted, inputs_of, snapshot
from titanic_mlops.domain.monitoring_data import LOGGED_PREFIX
from titanic_mlops.domain.records import CycleResult
from titanic_mlops.services import rai_monitor


def logged(inputs: pd.DataFrame, survived: list[int], label: list[int] | None = None) -> pd.DataFrame:
    """Rows as the prediction log's window() / labelled() give them."""
    frame = inputs.reset_index(drop=True).add_prefix(LOGGED_PREFIX)
    frame["probability"] = [0.9 if s else 0.1 for s in survived]
    frame["survived"] = survived
    if label is not None:
        frame["label"] = label
    return frame


def test_the_concept_window_reports_a_large_anomalous_share() -> None:
    ordinary, _ = snapshot()
    old_men = pd.concat([inputs_of(age=85.0 + i % 10) for i in range(40)])
    window = pd.concat([ordinary.iloc[:60], old_men], ignore_index=True)
    inputs = rai_monitor.monitoring_data.current_frame(logged(window, [0] * len(window)))
    share = rai_monitor.anomalous_share(detector(), inputs)
    assert share is not None and 0.4 <= share <= 0.45, share  # 40 of 100, plus maybe one ordinary row
    assert rai_monitor.anomalous_share(None, inputs) is None


def test_labelled_windows_report_the_gaps_and_reach_the_record() -> None:
    inputs, labels = snapshot()
    decided = (fitted("logistic_regression").predict_proba(inputs)[:, 1] >= 0.5).astype(int).tolist()
    gaps = rai_monitor.window_fairness(logged(inputs, decided, labels.tolist()), min_rows=50)
    assert set(gaps) == {
        f"{a}.{m}"
        for a in ("sex", "pclass", "age_band")
        for m in ("equalized_odds_difference", "demographic_parity_difference")
    }
    assert gaps["sex.equalized_odds_difference"] > 0.3
    assert rai_monitor.window_fairness(logged(inputs.iloc[:10], decided[:10], labels[:10].tolist()), 50) == {}
    record = CycleResult(
        time=0.0, model_name="m", window_rows=1, drift_detected=False, drift_share=0.0, drifted_columns=0,
        live_accuracy=None, action="none", reason="r", anomalous_share=0.4, fairness=gaps,
    )  # fmt: skip
    assert CycleResult.model_validate_json(record.model_dump_json()).fairness == gaps
