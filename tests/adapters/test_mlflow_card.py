"""The model card renders every field it is handed, and the gate section replaces its predecessor."""

from __future__ import annotations

from titanic_mlops.adapters.mlflow import card

HOLDOUT = {
    "overall": {"accuracy": 0.8, "roc_auc": 0.85, "rows": 179, "accuracy_interval": [0.74, 0.86]},
    "baseline": {"accuracy": 0.78, "rows": 179},
    "slices": {"sex=female": {"accuracy": 0.79, "rows": 61}},
}


def render() -> str:
    return card.model_card(
        "titanic-survival",
        "3",
        "drift",
        {"family": "logistic_regression", "params": {"C": 1.0}, "mean": 0.86, "std": 0.012},
        HOLDOUT,
        {"data_md5": "abc123", "git_commit": "f00"},
        {"train": 712, "holdout": 179},
    )


def test_the_card_has_every_section_and_every_value_it_was_given() -> None:
    text = render()
    assert text.startswith("# titanic-survival version 3\n")
    for heading in (
        "## Intended use",
        "## Data",
        "## Holdout metrics",
        "## Slices (holdout)",
        "## Known limits",
    ):
        assert heading in text
    assert "trigger: `drift`" in text
    assert "| data_md5 | `abc123` |" in text and "| holdout | 179 |" in text
    assert "| overall | 0.8000 | 0.8500 | 179 | [0.7400, 0.8600] |" in text
    assert "| baseline | 0.7800 | - | 179 | - |" in text
    assert "| sex=female | 0.7900 | 61 |" in text
    assert "| params | C 1.0000 |" in text
    assert card.GATE_HEADING not in text


def test_a_failed_check_is_bold_and_a_new_decision_replaces_the_old_section() -> None:
    refused = {
        "promote": False,
        "reason": "refused",
        "checks": [{"check": "min_accuracy", "passed": False, "detail": "0.7"}],
    }
    once = card.with_gate(render(), refused)
    assert "**refused**: refused" in once and "| min_accuracy | **no** | 0.7 |" in once
    twice = card.with_gate(once, {"promote": True, "reason": "ok", "checks": []})
    assert twice.count(card.GATE_HEADING) == 1
    assert "**promoted to `champion`**: ok" in twice and "min_accuracy" not in twice
    assert twice.startswith(render().rstrip())


def test_a_pipe_in_a_value_does_not_break_the_table() -> None:
    section = card.gate_section(
        {"promote": True, "reason": "", "checks": [{"check": "a|b", "passed": True, "detail": "x"}]}
    )
    assert "| a\\|b | yes | x |" in section
