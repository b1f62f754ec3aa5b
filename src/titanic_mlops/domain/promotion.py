"""The promotion policy: a pure decision from evaluation reports, so it is tested without MLflow."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from titanic_mlops.domain.evaluation import EvaluationReport
from titanic_mlops.domain.params import PromoteParams


@dataclass(frozen=True)
class Comparison:
    """One labelled evaluation set seen by both models (champion absent for the first model)."""

    name: str
    challenger: EvaluationReport
    champion: EvaluationReport | None


class GateCheck(BaseModel):
    """One named check of the gate, with what it compared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    passed: bool
    detail: str


class GateDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    promote: bool
    checks: list[GateCheck]

    @property
    def reason(self) -> str:
        failed = [c.detail for c in self.checks if not c.passed]
        if failed:
            return "refused: " + "; ".join(failed)
        return "promoted: " + "; ".join(c.detail for c in self.checks)


def decide(primary: Comparison, others: list[Comparison], policy: PromoteParams) -> GateDecision:
    """Floors and the baseline on the frozen holdout; non-inferiority on every set."""
    checks: list[GateCheck] = []

    def check(name: str, passed: bool, detail: str) -> None:
        checks.append(GateCheck(check=name, passed=bool(passed), detail=detail))

    overall = primary.challenger.overall
    accuracy, auc = overall.accuracy, overall.roc_auc or 0.0
    check(
        "min_accuracy",
        accuracy >= policy.min_accuracy,
        f"accuracy {accuracy:.4f} vs floor {policy.min_accuracy:.4f}",
    )
    check("min_roc_auc", auc >= policy.min_roc_auc, f"roc_auc {auc:.4f} vs floor {policy.min_roc_auc:.4f}")
    if policy.beat_baseline:
        base = primary.challenger.baseline
        base_auc = base.roc_auc or 0.0
        check(
            "beat_baseline",
            accuracy >= base.accuracy and auc > base_auc,
            f"accuracy {accuracy:.4f} / roc_auc {auc:.4f} vs women-survive baseline "
            f"{base.accuracy:.4f} / {base_auc:.4f}",
        )
    for name, metrics in primary.challenger.slices.items():
        if metrics.rows >= policy.slice_min_rows:
            check(
                f"slice:{name}",
                metrics.accuracy >= policy.slice_min_accuracy,
                f"{name} accuracy {metrics.accuracy:.4f} vs floor {policy.slice_min_accuracy:.4f}",
            )
    for comparison in [primary, *others]:
        if comparison.champion is None:
            continue
        new = comparison.challenger.overall.roc_auc or 0.0
        old = comparison.champion.overall.roc_auc or 0.0
        check(
            f"non_inferior:{comparison.name}",
            new >= old - policy.non_inferiority_margin,
            f"{comparison.name} roc_auc {new:.4f} vs champion {old:.4f} "
            f"(margin {policy.non_inferiority_margin:.4f})",
        )
    return GateDecision(promote=all(c.passed for c in checks), checks=checks)
