"""`services.experiment_cycle`: which looks rewrite the registry view `status` answers from."""

from __future__ import annotations

import pytest

from titanic_mlops.domain.experiment_records import ExperimentDecision, Verdict
from titanic_mlops.domain.records import RollbackEvent
from titanic_mlops.services import experiment_cycle


def _look(verdict: Verdict) -> ExperimentDecision:
    return ExperimentDecision(
        mode="shadow", labelled_rows=10, required_rows=500, champion_accuracy=None,
        challenger_accuracy=None, difference=None, ci_low=None, ci_high=None,
        p_value=None, decision=verdict, reason="r",
    )  # fmt: skip


@pytest.mark.parametrize(("verdict", "moved"), [("continue", False), ("promote", True), ("reject", True)])
def test_only_a_deciding_look_moves_an_alias(verdict: Verdict, moved: bool) -> None:
    assert experiment_cycle.moved_an_alias(_look(verdict)) is moved


def test_a_rollback_moves_one_and_no_experiment_moves_none() -> None:
    rollback = RollbackEvent(model_name="m", champion_before="2", champion_after="1", reason="worse")
    assert experiment_cycle.moved_an_alias(rollback)
    assert not experiment_cycle.moved_an_alias(None)
