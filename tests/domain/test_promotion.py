"""The promotion policy decides from reports alone."""

from __future__ import annotations

from titanic_mlops.domain.evaluation import EvaluationReport, Metrics
from titanic_mlops.domain.params import PromoteParams
from titanic_mlops.domain.promotion import Comparison, decide

POLICY = PromoteParams(
    min_accuracy=0.75,
    min_roc_auc=0.8,
    beat_baseline=True,
    non_inferiority_margin=0.01,
    slice_min_accuracy=0.6,
    slice_min_rows=10,
)


def metrics(accuracy: float, auc: float, rows: int) -> Metrics:
    return Metrics(accuracy=accuracy, f1=0.7, precision=0.7, recall=0.7, rows=rows, roc_auc=auc)


def report(accuracy: float, auc: float, slice_accuracy: float = 0.8) -> EvaluationReport:
    return EvaluationReport(
        overall=metrics(accuracy, auc, 179),
        slices={"sex=male": metrics(slice_accuracy, 0.8, 100), "pclass=1": metrics(0.1, 0.5, 5)},
        baseline=metrics(0.78, 0.76, 179),
    )


def test_first_model_is_promoted_when_it_passes_the_floors() -> None:
    decision = decide(Comparison("holdout", report(0.82, 0.87), None), [], POLICY)
    assert decision.promote
    assert decision.reason.startswith("promoted")


def test_below_the_accuracy_floor_is_refused_with_the_reason() -> None:
    decision = decide(Comparison("holdout", report(0.70, 0.87), None), [], POLICY)
    assert not decision.promote
    assert "accuracy 0.7000 vs floor 0.7500" in decision.reason


def test_must_beat_the_women_survive_baseline() -> None:
    decision = decide(Comparison("holdout", report(0.77, 0.86), None), [], POLICY)
    assert not decision.promote
    assert "baseline" in decision.reason


def test_a_failing_slice_refuses_but_tiny_slices_are_not_judged() -> None:
    decision = decide(Comparison("holdout", report(0.82, 0.87, slice_accuracy=0.5), None), [], POLICY)
    assert not decision.promote
    assert "sex=male" in decision.reason
    assert "pclass=1" not in decision.reason


def test_non_inferiority_margin_against_the_champion() -> None:
    worse = decide(Comparison("holdout", report(0.82, 0.85), report(0.83, 0.87)), [], POLICY)
    within = decide(Comparison("holdout", report(0.82, 0.865), report(0.83, 0.87)), [], POLICY)
    assert not worse.promote
    assert within.promote


def test_a_challenger_worse_on_recent_data_is_refused_even_if_the_holdout_is_fine() -> None:
    primary = Comparison("holdout", report(0.82, 0.87), report(0.82, 0.87))
    recent = Comparison("recent", report(0.70, 0.70), report(0.80, 0.85))
    decision = decide(primary, [recent], POLICY)
    assert not decision.promote
    assert "recent roc_auc" in decision.reason
