"""The online A/B decision: the power plan, the fixed-horizon rules, early reject, SRM."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from titanic_mlops.domain import experiment
from titanic_mlops.domain.experiment import ArmCounts, PairedCounts
from titanic_mlops.domain.params import ExperimentParams, Guardrails, Params

GUARDRAILS = Guardrails(
    max_challenger_error_rate=0.01,
    max_latency_ratio=3.0,
    min_guardrail_requests=50,
    sample_ratio_p_value=0.001,
)
PARAMS = ExperimentParams(
    mode="shadow",
    canary_share=0.1,
    alpha=0.05,
    power=0.8,
    min_detectable_effect=0.05,
    non_inferiority_margin=0.01,
    max_labelled_rows=5000,
    guardrails=GUARDRAILS,
)


def test_the_plan_matches_the_textbook_sample_sizes() -> None:
    # One-sided, alpha 0.05, power 0.8, 0.80 -> 0.85: (1.645 + 0.842)^2 * 0.2875 / 0.05^2 ~ 711.
    assert 700 <= experiment.required_rows("shadow", PARAMS, 0.8) <= 720
    # Canary 10%: ~431 rows on the challenger arm (pooled variance), nine times that on the champion's.
    assert 4250 <= experiment.required_rows("canary", PARAMS, 0.8) <= 4400


def test_a_smaller_effect_needs_more_rows() -> None:
    small = PARAMS.model_copy(update={"min_detectable_effect": 0.02})
    assert experiment.required_rows("shadow", small, 0.8) > 4 * experiment.required_rows(
        "shadow", PARAMS, 0.8
    )


@pytest.mark.parametrize("baseline", [0.0, 1.0, 0.9995])
def test_the_plan_refuses_a_baseline_without_room(baseline: float) -> None:
    with pytest.raises(ValueError, match="baseline accuracy"):
        experiment.required_rows("shadow", PARAMS, baseline)


def test_shadow_promotes_a_better_challenger_at_the_horizon() -> None:
    decision = experiment.decide_shadow(PairedCounts(560, 40, 90, 110), 700, PARAMS)
    assert decision.decision == "promote"
    assert decision.labelled_rows == 800
    assert decision.challenger_accuracy == pytest.approx(650 / 800)
    assert decision.champion_accuracy == pytest.approx(600 / 800)
    assert decision.difference == pytest.approx(50 / 800)
    assert decision.ci_low is not None and decision.ci_low > 0
    assert decision.p_value is not None and decision.p_value < 0.05


def test_shadow_rejects_an_equal_challenger_at_the_horizon() -> None:
    decision = experiment.decide_shadow(PairedCounts(560, 65, 65, 110), 700, PARAMS)
    assert decision.decision == "reject"
    assert decision.p_value is not None and decision.p_value > 0.5
    assert "not shown better" in decision.reason


def test_shadow_waits_before_the_horizon_even_when_the_challenger_looks_better() -> None:
    decision = experiment.decide_shadow(PairedCounts(280, 20, 45, 55), 700, PARAMS)
    assert decision.decision == "continue"
    assert decision.reason == "400 of 700 labelled rows"


def test_shadow_rejects_early_a_challenger_worse_by_more_than_the_margin() -> None:
    decision = experiment.decide_shadow(PairedCounts(250, 60, 10, 80), 700, PARAMS)
    assert decision.decision == "reject"
    assert "worse than the champion" in decision.reason
    assert decision.ci_high is not None and decision.ci_high < -PARAMS.non_inferiority_margin


def test_shadow_gives_up_at_max_labelled_rows() -> None:
    capped = PARAMS.model_copy(update={"max_labelled_rows": 300})
    decision = experiment.decide_shadow(PairedCounts(220, 20, 22, 38), 700, capped)
    assert decision.decision == "reject"
    assert "gave up at max_labelled_rows 300" in decision.reason


def test_shadow_without_disagreement_cannot_promote() -> None:
    assert experiment.decide_shadow(PairedCounts(600, 0, 0, 200), 700, PARAMS).decision == "reject"
    assert experiment.decide_shadow(PairedCounts(60, 0, 0, 20), 700, PARAMS).decision == "continue"


def test_shadow_interval_brackets_the_difference() -> None:
    for challenger_only in range(40, 80, 5):
        counts = PairedCounts(560, 60, challenger_only, 100)
        decision = experiment.decide_shadow(counts, 10_000, PARAMS)
        assert decision.ci_low is not None and decision.difference is not None
        assert decision.ci_low < decision.difference < (decision.ci_high or 0) + 1e-12


def test_canary_promotes_a_better_challenger_with_a_fair_split() -> None:
    decision = experiment.decide_canary(ArmCounts(3600, 2880, 400, 348), 3950, PARAMS)
    assert decision.decision == "promote"
    assert decision.mode == "canary"
    assert decision.challenger_accuracy == pytest.approx(0.87)


def test_canary_rejects_an_equal_challenger_at_the_horizon() -> None:
    decision = experiment.decide_canary(ArmCounts(3600, 2880, 400, 320), 3950, PARAMS)
    assert decision.decision == "reject"


def test_canary_rejects_a_sample_ratio_mismatch_at_the_deciding_look() -> None:
    assert experiment.decide_canary(ArmCounts(800, 640, 200, 170), 3950, PARAMS).decision == "continue"
    decision = experiment.decide_canary(ArmCounts(800, 640, 200, 170), 1000, PARAMS)
    assert decision.decision == "reject"
    assert decision.reason.startswith("sample ratio mismatch: 200 of 1000 rows")


def test_canary_waits_while_an_arm_is_empty_and_survives_perfect_arms() -> None:
    assert experiment.decide_canary(ArmCounts(50, 40, 0, 0), 3950, PARAMS).decision == "continue"
    perfect = experiment.decide_canary(ArmCounts(90, 90, 10, 10), 3950, PARAMS)
    assert perfect.decision == "continue"
    assert perfect.p_value == 1.0


def test_params_parse_the_section_and_refuse_a_bad_mode() -> None:
    assert PARAMS.mode == "shadow"
    with pytest.raises(ValidationError, match="mode"):
        ExperimentParams.model_validate({**PARAMS.model_dump(), "mode": "blue-green"})
    with pytest.raises(ValidationError, match="canary_share"):
        ExperimentParams.model_validate({**PARAMS.model_dump(), "canary_share": 1.5})
    assert "experiment" in Params.model_fields


def test_a_bare_yaml_off_means_mode_off() -> None:
    assert ExperimentParams.model_validate({**PARAMS.model_dump(), "mode": False}).mode == "off"
    with pytest.raises(ValidationError, match="mode"):
        ExperimentParams.model_validate({**PARAMS.model_dump(), "mode": True})


def test_a_look_before_any_comparison_imports_no_statistics() -> None:
    """Every monitoring cycle looks at a running experiment; before labels arrive that is free."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from titanic_mlops.domain import experiment\n"
        "from titanic_mlops.domain.experiment import ArmCounts, PairedCounts\n"
        "from titanic_mlops.domain.params import ExperimentParams\n"
        f"params = ExperimentParams.model_validate_json({PARAMS.model_dump_json()!r})\n"
        "assert experiment.decide_shadow(PairedCounts(0, 0, 0, 0), 500, params).decision == 'continue'\n"
        "assert experiment.decide_canary(ArmCounts(4, 3, 0, 0), 500, params).decision == 'continue'\n"
        "loaded = [m for m in ('scipy.stats', 'statsmodels') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
