"""The online A/B test between `champion` and `challenger`: power analysis and decision rules.

Pure: counts in, a typed decision out, every statistic from statsmodels or scipy. The design is
a fixed-horizon test, so repeated looks (one per monitoring cycle) cannot inflate the false
promotion rate: before the planned number of labelled rows only an early *reject* is possible
(the challenger is worse than the champion by more than the margin, with confidence); at the
horizon one test decides promote or reject. Intervals are two-sided at 1 - 2*alpha, so a lower
bound above -margin is exactly the one-sided non-inferiority test at alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from titanic_mlops.domain.experiment_records import ExperimentDecision, Mode, Verdict
from titanic_mlops.domain.params import ExperimentParams

if TYPE_CHECKING:
    from statsmodels.stats.weightstats import DescrStatsW

# scipy.stats and statsmodels are imported by the functions that test (about 1 s together): the
# API, `status` and the gate import this module for its types, and only a look computes.

_MAX_ACCURACY = 0.999


@dataclass(frozen=True)
class PairedCounts:
    """Shadow: the same labelled passengers scored by both models, as a 2x2 of correctness."""

    both_right: int
    champion_only: int
    challenger_only: int
    both_wrong: int

    @property
    def n(self) -> int:
        return self.both_right + self.champion_only + self.challenger_only + self.both_wrong


@dataclass(frozen=True)
class ArmCounts:
    """Canary: each labelled passenger was answered by one arm only."""

    champion_rows: int
    champion_right: int
    challenger_rows: int
    challenger_right: int

    @property
    def n(self) -> int:
        return self.champion_rows + self.challenger_rows


def required_rows(mode: Mode, params: ExperimentParams, baseline_accuracy: float) -> int:
    """Labelled rows for `power` at `min_detectable_effect` over the champion's accuracy.

    Shadow is planned as a one-sided paired test on the per-passenger difference of correctness
    with the variance of two independent models (p1q1 + p2q2), an upper bound for two models that
    agree more than chance does, so the plan errs towards more rows. Canary is a one-sided
    two-proportion test of the difference, the arms in the ratio of `canary_share`, with the
    pooled variance the score test uses under the null for the alternative as well: the
    challenger's smaller variance (p2 > p1) only adds power.
    """
    if not 0.0 < baseline_accuracy < 1.0:
        raise ValueError(f"baseline accuracy must be in (0, 1), got {baseline_accuracy}")
    p1 = baseline_accuracy
    p2 = min(p1 + params.min_detectable_effect, _MAX_ACCURACY)
    if p2 <= p1:
        raise ValueError(f"baseline accuracy {p1} leaves no room for the minimum detectable effect")
    from statsmodels.stats.power import NormalIndPower, TTestPower

    if mode == "shadow":
        effect = (p2 - p1) / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        rows = TTestPower().solve_power(
            effect_size=effect, alpha=params.alpha, power=params.power, alternative="larger"
        )
        return math.ceil(float(rows))
    share = params.canary_share
    ratio = (1 - share) / share
    pooled = share * p2 + (1 - share) * p1  # the score test's variance under H0, used for H1 too
    challenger = NormalIndPower().solve_power(
        effect_size=(p2 - p1) / math.sqrt(pooled * (1 - pooled)),
        alpha=params.alpha,
        power=params.power,
        ratio=ratio,
        alternative="larger",
    )
    return math.ceil(float(challenger) * (1 + ratio))


def horizon(required: int, params: ExperimentParams) -> int:
    """The row count of the one deciding test: the plan, capped by `max_labelled_rows`."""
    return min(required, params.max_labelled_rows)


def decide_shadow(counts: PairedCounts, required: int, params: ExperimentParams) -> ExperimentDecision:
    """McNemar's exact test (one-sided) for superiority and a paired non-inferiority test."""
    n = counts.n
    if n < 2:  # before the imports: every monitoring cycle looks, mostly before labels arrive (~1 s)
        return _waiting("shadow", n, required, f"{n} labelled rows, too few to compare")
    from scipy.stats import binomtest
    from statsmodels.stats.weightstats import DescrStatsW

    champion = (counts.both_right + counts.champion_only) / n
    challenger = (counts.both_right + counts.challenger_only) / n
    discordant = counts.champion_only + counts.challenger_only

    def decision(
        verdict: Verdict, reason: str, p: float | None, ci: tuple[float, float]
    ) -> ExperimentDecision:
        return ExperimentDecision(
            mode="shadow", labelled_rows=n, required_rows=required,
            champion_accuracy=champion, challenger_accuracy=challenger,
            difference=challenger - champion, ci_low=ci[0], ci_high=ci[1],
            p_value=p, decision=verdict, reason=reason,
        )  # fmt: skip

    if discordant == 0:
        if n >= horizon(required, params):
            return decision("reject", f"no disagreement in {n} labelled rows", 1.0, (0.0, 0.0))
        return decision("continue", f"{n} of {required} labelled rows, no disagreement yet", None, (0.0, 0.0))
    diffs = DescrStatsW(
        [1.0, -1.0, 0.0], weights=[counts.challenger_only, counts.champion_only, n - discordant]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = (
            _finite(float(v), challenger - champion) for v in diffs.tconfint_mean(alpha=2 * params.alpha)
        )
    margin = params.non_inferiority_margin
    mcnemar = float(binomtest(counts.challenger_only, discordant, 0.5, alternative="greater").pvalue)
    if n < horizon(required, params):
        worse = _paired_p(diffs, -margin, "smaller")
        if worse < params.alpha:
            return decision(
                "reject", f"worse than the champion by more than {margin} (p={worse:.4f})", worse, (low, high)
            )
        return decision("continue", f"{n} of {required} labelled rows", mcnemar, (low, high))
    non_inferior = _paired_p(diffs, -margin, "larger")
    return decision(*_final(mcnemar, non_inferior, n, required, params), mcnemar, (low, high))


def decide_canary(counts: ArmCounts, required: int, params: ExperimentParams) -> ExperimentDecision:
    """A two-proportion score test, and a sample-ratio-mismatch check at the deciding look."""
    n = counts.n
    if counts.champion_rows == 0 or counts.challenger_rows == 0:  # before the imports, as above
        return _waiting("canary", n, required, f"{n} labelled rows, one arm still empty")
    from scipy.stats import binomtest
    from statsmodels.stats.proportion import confint_proportions_2indep

    champion = counts.champion_right / counts.champion_rows
    challenger = counts.challenger_right / counts.challenger_rows
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = confint_proportions_2indep(
            counts.challenger_right, counts.challenger_rows,
            counts.champion_right, counts.champion_rows,
            method="newcomb", alpha=2 * params.alpha,
        )  # fmt: skip
    low, high = (float(v) for v in interval)

    def decision(verdict: Verdict, reason: str, p: float | None) -> ExperimentDecision:
        return ExperimentDecision(
            mode="canary", labelled_rows=n, required_rows=required,
            champion_accuracy=champion, challenger_accuracy=challenger,
            difference=challenger - champion, ci_low=low, ci_high=high,
            p_value=p, decision=verdict, reason=reason,
        )  # fmt: skip

    margin = params.non_inferiority_margin
    superior = _two_proportion_p(counts, 0.0, "larger")
    if n < horizon(required, params):
        worse = _two_proportion_p(counts, -margin, "smaller")
        if worse < params.alpha:
            return decision("reject", f"worse than the champion by more than {margin} (p={worse:.4f})", worse)
        return decision("continue", f"{n} of {required} labelled rows", superior)
    share = params.canary_share
    ratio = float(binomtest(counts.challenger_rows, n, share).pvalue)
    if (
        ratio < params.guardrails.sample_ratio_p_value
    ):  # once, at the deciding look: no repeated-look false alarms
        return decision(
            "reject",
            f"sample ratio mismatch: {counts.challenger_rows} of {n} rows on the challenger, "
            f"expected {share:.0%} (p={ratio:.2g})",
            ratio,
        )
    non_inferior = _two_proportion_p(counts, -margin, "larger")
    return decision(*_final(superior, non_inferior, n, required, params), superior)


def _final(
    superior: float, non_inferior: float, n: int, required: int, params: ExperimentParams
) -> tuple[Verdict, str]:
    """The one test at the horizon: better with confidence (and not worse by the margin)."""
    capped = "" if n >= required else f" (gave up at max_labelled_rows {params.max_labelled_rows})"
    if superior < params.alpha and non_inferior < params.alpha:
        return "promote", f"better than the champion (p={superior:.4f} < alpha {params.alpha}){capped}"
    return "reject", f"not shown better (p={superior:.4f} >= alpha {params.alpha}) in {n} rows{capped}"


def _waiting(mode: Mode, n: int, required: int, reason: str) -> ExperimentDecision:
    return ExperimentDecision(
        mode=mode, labelled_rows=n, required_rows=required, champion_accuracy=None,
        challenger_accuracy=None, difference=None, ci_low=None, ci_high=None,
        p_value=None, decision="continue", reason=reason,
    )  # fmt: skip


def _finite(value: float, fallback: float) -> float:
    return fallback if math.isnan(value) else value


def _paired_p(diffs: DescrStatsW, value: float, alternative: str) -> float:
    """The paired t-test on per-passenger differences; no spread (all pairs alike) -> exact."""
    if diffs.std == 0:
        larger = diffs.mean > value
        return 0.0 if larger == (alternative == "larger") and diffs.mean != value else 1.0
    return float(diffs.ttest_mean(value=value, alternative=alternative)[1])


def _two_proportion_p(counts: ArmCounts, value: float, alternative: str) -> float:
    """The score test; all-right (or all-wrong) arms give no evidence (statsmodels: nan) -> 1."""
    from statsmodels.stats.proportion import test_proportions_2indep

    with np.errstate(divide="ignore", invalid="ignore"):
        result = test_proportions_2indep(
            counts.challenger_right, counts.challenger_rows,
            counts.champion_right, counts.champion_rows,
            value=value, method="score", compare="diff", alternative=alternative,
        )  # fmt: skip
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


@dataclass(frozen=True)
class Regression:
    """The new champion's labelled window against the previous champion's record."""

    p_value: float
    regressed: bool
    done: bool
    reason: str


def decide_regression(record: ArmCounts, horizon_rows: int, params: ExperimentParams) -> Regression:
    """Roll back when the new champion (challenger arm) is worse by more than the margin.

    `record` holds the previous champion's experiment record as the champion arm and the new
    champion's rows since its promotion as the challenger arm; the watch ends at `horizon_rows`.
    """
    n = record.challenger_rows
    if n < 2 or record.champion_rows == 0:
        return Regression(1.0, False, False, f"{n} labelled rows since the promotion")
    margin = params.non_inferiority_margin
    p = _two_proportion_p(record, -margin, "smaller")
    now = record.challenger_right / n
    before = record.champion_right / record.champion_rows
    if p < params.alpha:
        return Regression(
            p,
            True,
            True,
            f"regression: accuracy {now:.4f} vs {before:.4f} before, worse by more than {margin} (p={p:.4f})",
        )
    done = n >= horizon_rows
    state = "no regression" if done else f"{n} of {horizon_rows} rows, no regression yet"
    return Regression(p, False, done, f"{state}: accuracy {now:.4f} vs {before:.4f} (p={p:.4f})")
