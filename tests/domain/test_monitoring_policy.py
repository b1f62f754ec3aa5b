"""The monitoring policy: window size, drift share, quality floor, hysteresis, cooldown, experiment."""

from __future__ import annotations

import pytest

from tests.support.samples import monitor_params
from titanic_mlops.domain.monitoring_policy import PolicyState, WindowStats, decide
from titanic_mlops.domain.params import MonitorParams


@pytest.fixture
def params() -> MonitorParams:
    return monitor_params()


def test_a_small_window_is_not_judged(params: MonitorParams) -> None:
    verdict = decide(WindowStats(rows=99, drift_share=1.0), PolicyState(consecutive=1), params, now=0)
    assert (verdict.action, verdict.judged, verdict.state.consecutive) == ("none", False, 1)
    assert "min_window_rows" in verdict.reason


def test_one_drifted_window_waits_for_confirmation(params: MonitorParams) -> None:
    verdict = decide(WindowStats(200, 0.5), PolicyState(), params, now=0)
    assert verdict.action == "none" and verdict.drift_detected and verdict.state.consecutive == 1


def test_two_drifted_windows_in_a_row_retrain_and_reset(params: MonitorParams) -> None:
    first = decide(WindowStats(200, 0.5), PolicyState(), params, now=0)
    second = decide(WindowStats(200, 0.3), first.state, params, now=60)
    assert second.action == "retrain"
    assert second.state.consecutive == 0 and second.state.last_retrain == 60


def test_a_clean_window_breaks_the_streak(params: MonitorParams) -> None:
    first = decide(WindowStats(200, 0.5), PolicyState(), params, now=0)
    clean = decide(WindowStats(200, 0.29), first.state, params, now=1)
    third = decide(WindowStats(200, 0.5), clean.state, params, now=2)
    assert (clean.action, clean.state.consecutive) == ("none", 0)
    assert third.action == "none"


def test_quality_under_the_floor_alarms_only_with_enough_labels(params: MonitorParams) -> None:
    few = decide(WindowStats(200, 0.0, labelled_rows=49, accuracy=0.5), PolicyState(consecutive=1), params, 0)
    many = decide(
        WindowStats(200, 0.0, labelled_rows=50, accuracy=0.5), PolicyState(consecutive=1), params, 0
    )
    assert few.action == "none" and not few.quality_breach
    assert many.action == "retrain" and many.quality_breach and not many.drift_detected
    assert "quality floor" in many.reason


def test_cooldown_holds_back_a_retraining(params: MonitorParams) -> None:
    state = PolicyState(consecutive=1, last_retrain=0.0)
    early = decide(WindowStats(200, 0.9), state, params, now=9 * 60)
    late = decide(WindowStats(200, 0.9), state, params, now=10 * 60)
    assert early.action == "none" and "cooldown" in early.reason
    assert late.action == "retrain"


def test_a_challenger_in_its_online_experiment_holds_back_a_retraining(params: MonitorParams) -> None:
    state = PolicyState(consecutive=1)
    held = decide(WindowStats(200, 0.9), state, params, now=0, testing="4")
    assert held.action == "none" and held.drift_detected
    assert "challenger v4 is in its online experiment" in held.reason
    assert held.state.consecutive == 2 and held.state.last_retrain is None, "the alarm stays remembered"
    assert decide(WindowStats(200, 0.9), held.state, params, now=1).action == "retrain"
