"""The gate's fairness checks, from `promote.fairness` in params.yaml (see domain.fairness for the
measures and for what they mean on this data).

Per attribute, two checks: an absolute ceiling on the challenger's equalized-odds difference
(set loose: survival itself differs by sex and class), and "not less fair than the champion":
the challenger's difference may exceed the champion's by at most `max_equalized_odds_increase`.
"""

from __future__ import annotations

from collections.abc import Mapping

from titanic_mlops.domain.fairness import GroupReport
from titanic_mlops.domain.gate_checks import GateCheck, GateDecision
from titanic_mlops.domain.params import FairnessParams


def gate_checks(
    challenger: Mapping[str, GroupReport],
    champion: Mapping[str, GroupReport] | None,
    policy: FairnessParams,
) -> list[GateCheck]:
    """Per attribute: the absolute ceiling, and "not less fair than the champion" when there is one."""
    checks = []
    for attribute in policy.attributes:
        new = challenger[attribute].equalized_odds_difference
        name = f"fairness:ceiling:{attribute}"
        checks.append(
            GateCheck(
                check=name,
                passed=new <= policy.max_equalized_odds_difference,
                detail=f"{name} equalized-odds difference {new:.4f} vs ceiling "
                f"{policy.max_equalized_odds_difference:.4f}",
            )
        )
        if champion is None:
            continue
        old = champion[attribute].equalized_odds_difference
        name = f"fairness:not_less_fair:{attribute}"
        checks.append(
            GateCheck(
                check=name,
                passed=new <= old + policy.max_equalized_odds_increase,
                detail=f"{name} equalized-odds difference {new:.4f} vs champion {old:.4f} "
                f"(allowed increase {policy.max_equalized_odds_increase:.4f})",
            )
        )
    return checks


def with_checks(decision: GateDecision, checks: list[GateCheck]) -> GateDecision:
    """The gate's decision with the fairness checks added: any failed check refuses."""
    merged = [*decision.checks, *checks]
    return GateDecision(promote=all(c.passed for c in merged), checks=merged)
