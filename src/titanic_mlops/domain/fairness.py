"""Fairness: the groups we measure, the report per attribute, and the gate's fairness checks.

What the checks mean on this data: survival itself differs by sex and class (women and the first
class were saved first), so a model that predicts well has large gaps between those groups, and
no absolute "fair" ceiling makes sense for them. The gate therefore asks "not less fair than the
champion": a challenger's equalized-odds difference (the larger of its TPR and FPR gaps between
groups) may exceed the champion's by at most `max_equalized_odds_increase`. An absolute ceiling
(`max_equalized_odds_difference`) catches a model that would be unfair with no champion to
compare with; it is set loose on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

MEANING = (
    "Survival differed by sex and class, so gaps between those groups are expected of an accurate "
    "model; the gate refuses a challenger that is less fair than the champion, not one with gaps."
)
ATTRIBUTES = ("sex", "pclass", "age_band")
AGE_BANDS = ((0.0, 16.0, "child"), (16.0, 60.0, "adult"), (60.0, float("inf"), "senior"))


class GroupReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str
    by_group: dict[str, dict[str, float]]
    demographic_parity_difference: float
    equalized_odds_difference: float


def age_band(age: np.ndarray) -> np.ndarray:
    """child (< 16), adult (16-59), senior (60+), unknown for a gap."""
    values = np.asarray(age, dtype=np.float64)
    out = np.full(values.shape, "unknown", dtype=object)
    for low, high, name in AGE_BANDS:
        out[(values >= low) & (values < high)] = name
    return out


def sensitive_groups(inputs: pd.DataFrame) -> dict[str, pd.Series]:
    """Sex, passenger class and age band of each row of model inputs."""
    return {
        "sex": inputs["sex"].astype(str).rename("sex"),
        "pclass": inputs["pclass"].map(lambda v: "unknown" if pd.isna(v) else str(int(v))).rename("pclass"),
        "age_band": pd.Series(age_band(inputs["age"].to_numpy()), index=inputs.index, name="age_band"),
    }


def flat_metrics(reports: Mapping[str, GroupReport], prefix: str = "fairness") -> dict[str, float]:
    """MLflow metric names: fairness.<attr>.eod / .dpd and fairness.<attr>.<group>.<metric>."""
    out: dict[str, float] = {}
    for attribute, report in reports.items():
        out[f"{prefix}.{attribute}.equalized_odds_difference"] = report.equalized_odds_difference
        out[f"{prefix}.{attribute}.demographic_parity_difference"] = report.demographic_parity_difference
        for group, metrics in report.by_group.items():
            for name, value in metrics.items():
                if not np.isnan(value):
                    out[f"{prefix}.{attribute}.{group}.{name}"] = value
    return out
