"""The model card, as Markdown: what a registered version's description says in the MLflow UI.

Plain text from plain values (no MLflow here): the card renders every field it is handed, so a
metric, an interval or a gate check added upstream reaches the card without an edit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GATE_HEADING = "## Gate decision"

MODEL_DESCRIPTION = (
    "Titanic survival classifier: P(survived) for one passenger from the passenger contract "
    "(class, sex, age, fare, family, ticket and cabin features; ticket group sizes from the Feast "
    "online store). A scikit-learn pipeline (imputation and encoding inside), served as ONNX by "
    "the FastAPI service under the `champion` alias; every version is trained by the `train` "
    "stage, judged by the `promote` gate, and carries its model card as its description."
)

INTENDED_USE = (
    "Teaching and reference: an end-to-end MLOps loop on a public, historical data set. The "
    "score ranks passengers of the 1912 sailing by survival odds; it is not a decision aid for "
    "people, and no conclusion about any real person should be drawn from it."
)

KNOWN_LIMITS = (
    "- Trained on 891 labelled passengers (plus feedback rows); the holdout has ~180 rows, so "
    "one passenger moves holdout accuracy by about half a point.",
    "- Sex and class dominate the score: slices are reported below, and small slices (first "
    "class, children) have wide uncertainty.",
    "- Ticket group features come from the population the store was filled with; a passenger "
    "unknown to the store falls back to a group of one.",
    "- The decision threshold is fixed; it is not tuned per slice.",
)


def model_card(
    name: str,
    version: str,
    trigger: str,
    cv: Mapping[str, Any],
    holdout: Mapping[str, Any],
    lineage: Mapping[str, str],
    rows: Mapping[str, int],
) -> str:
    """The card of one version at registration; the gate appends its section later."""
    sections = [
        f"# {name} version {version}",
        f"Trained by the `train` stage (trigger: `{trigger}`).",
        "## Intended use",
        INTENDED_USE,
        "## Data",
        _table(["what", "value"], [[key, f"`{_cell(value)}`"] for key, value in sorted(lineage.items())])
        + "\n\n"
        + _table(["set", "rows"], [[key, str(value)] for key, value in rows.items()]),
        "## Model selection (cross-validation on the training rows)",
        _table(["field", "value"], [[key, _cell(value)] for key, value in cv.items()]),
        "## Holdout metrics",
        _metrics_table({key: value for key, value in holdout.items() if key != "slices"}),
        "## Slices (holdout)",
        _metrics_table(holdout.get("slices", {})),
        "## Known limits",
        "\n".join(KNOWN_LIMITS),
    ]
    return "\n\n".join(sections) + "\n"


def gate_section(decision: Mapping[str, Any]) -> str:
    """The gate's decision and each check, with every field the check carries (intervals too)."""
    checks: Sequence[Mapping[str, Any]] = decision.get("checks", [])
    extra = sorted({key for check in checks for key in check} - {"check", "passed", "detail"})
    header = ["check", "passed", "detail", *extra]
    body = [
        [
            _cell(check.get("check", "")),
            "yes" if check.get("passed") else "**no**",
            _cell(check.get("detail", "")),
            *(_cell(check.get(key)) for key in extra),
        ]
        for check in checks
    ]
    verdict = "promoted to `champion`" if decision.get("promote") else "refused"
    return "\n\n".join([GATE_HEADING, f"**{verdict}**: {decision.get('reason', '')}", _table(header, body)])


def with_gate(description: str, decision: Mapping[str, Any]) -> str:
    """`description` with its gate section replaced by this decision's (a re-judged version)."""
    card = description.split(GATE_HEADING, 1)[0].rstrip()
    return f"{card}\n\n{gate_section(decision)}\n"


def _metrics_table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    if not rows:
        return "(none)"
    columns = list(dict.fromkeys(key for values in rows.values() for key in values))
    body = [[name, *(_cell(values.get(key)) for key in columns)] for name, values in rows.items()]
    return _table(["", *columns], body)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(_cell(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {_cell(item)}" for key, item in value.items())
    return str(value).replace("|", "\\|")


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)
