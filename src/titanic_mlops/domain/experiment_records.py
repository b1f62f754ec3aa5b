"""The experiment's typed records, apart from the statistics so that reading them needs no scipy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from titanic_mlops.domain.params import ExperimentParams

Mode = Literal["shadow", "canary"]
Verdict = Literal["continue", "promote", "reject"]
PREVIOUS = "previous"  # the alias the champion keeps when an experiment promotes its challenger


def _now() -> str:
    """The history's time format (records.now_iso, not imported: records imports this module)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ExperimentDecision(BaseModel):
    """One look at a running experiment: what history, MLflow and `status --json` record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode
    labelled_rows: int
    required_rows: int
    champion_accuracy: float | None
    challenger_accuracy: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    decision: Verdict
    reason: str

    def describe(self) -> str:
        """One readable paragraph: the MLflow version's description and the Prefect artifact."""

        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        return (
            f"Online experiment ({self.mode}): {self.decision}. {self.reason}. "
            f"{self.labelled_rows} labelled rows (planned {self.required_rows}); accuracy "
            f"champion {num(self.champion_accuracy)}, challenger {num(self.challenger_accuracy)}; "
            f"difference {num(self.difference)} [{num(self.ci_low)}, {num(self.ci_high)}]; "
            f"p-value {num(self.p_value)}."
        )


class ExperimentEvent(ExperimentDecision):
    """A decision that ended an experiment (promote or reject), as the history keeps it."""

    event: Literal["experiment"] = "experiment"
    time: str = Field(default_factory=_now)
    model_name: str
    challenger_version: str
    champion_version: str | None
    promoted: bool


class ExperimentState(BaseModel):
    """The running (or last) experiment: what serving loads and what each cycle evaluates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_name: str
    challenger_version: str
    champion_version: str
    params: ExperimentParams
    baseline_accuracy: float
    required_rows: int
    started_at: float
    running: bool = True
    last: ExperimentDecision | None = None
    # After a promotion: the new champion is watched for a regression until this many rows.
    promoted_at: float | None = None
    watching: bool = False

    @property
    def mode(self) -> Mode:
        mode = self.params.mode
        return "canary" if mode == "canary" else "shadow"
