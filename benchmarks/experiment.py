"""`make bench-experiment`: the online A/B decision on simulated experiments, as a table.

The real decision code (titanic_mlops.domain.experiment, parameters from params.yaml
`experiment:`) looks at each simulated experiment once per monitoring cycle of
`monitor.min_window_rows` labelled rows, exactly as the monitoring flow does, until it says
promote or reject. The champion's accuracy is `--baseline`; the challenger's is the baseline
plus the scenario's true difference:

- equal (0) and worse by the margin (-non_inferiority_margin): any promotion is a false one;
  target: promotion rate <= alpha.
- better by the minimum detectable effect (+min_detectable_effect): target: promotion rate
  (the power) >= power.

Shadow pairs the two models on the same passengers: with probability `--agreement` the
challenger is right exactly when the champion is (real retrained models agree on most rows),
otherwise it is right independently. Canary sends each passenger to the challenger with
probability canary_share. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import experiment
from titanic_mlops.domain.experiment import ArmCounts, ExperimentDecision, Mode, PairedCounts
from titanic_mlops.domain.params import ExperimentParams

ROOT = Path(__file__).resolve().parents[1]
Look = Callable[[int], ExperimentDecision]


@dataclass(frozen=True)
class Cell:
    mode: Mode
    scenario: str
    difference: float
    promoted: float
    low: float
    high: float
    median_rows: float
    target: str
    met: bool


def shadow_trial(
    rng: np.random.Generator, p1: float, p2: float, agreement: float, rows: int
) -> Callable[[int], PairedCounts]:
    """Paired correctness for `rows` passengers; returns the 2x2 counts of the first n."""
    champion = rng.random(rows) < p1
    own = rng.random(rows) < (p2 - agreement * p1) / (1 - agreement)
    challenger = np.where(rng.random(rows) < agreement, champion, own)
    cells = np.cumsum(
        np.stack([champion & challenger, champion & ~challenger, ~champion & challenger]), axis=1
    )

    def counts(n: int) -> PairedCounts:
        both, champ, chal = (int(v) for v in cells[:, n - 1])
        return PairedCounts(both, champ, chal, n - both - champ - chal)

    return counts


def canary_trial(
    rng: np.random.Generator, p1: float, p2: float, share: float, rows: int
) -> Callable[[int], ArmCounts]:
    on_challenger = rng.random(rows) < share
    right = rng.random(rows) < np.where(on_challenger, p2, p1)
    cells = np.cumsum(np.stack([~on_challenger, ~on_challenger & right, on_challenger & right]), axis=1)

    def counts(n: int) -> ArmCounts:
        champ_rows, champ_right, chal_right = (int(v) for v in cells[:, n - 1])
        return ArmCounts(champ_rows, champ_right, n - champ_rows, chal_right)

    return counts


def run_trial(look: Look, cycle: int, limit: int) -> ExperimentDecision:
    """One experiment: a look per monitoring cycle until the decision is not `continue`."""
    n = cycle
    while True:
        decision = look(min(n, limit))
        if decision.decision != "continue" or n >= limit:
            return decision
        n += cycle


def cell(
    mode: Mode, scenario: str, difference: float, params: ExperimentParams, args: argparse.Namespace
) -> Cell:
    rng = np.random.default_rng(args.seed)
    p1, p2 = args.baseline, args.baseline + difference
    required = experiment.required_rows(mode, params, args.baseline)
    limit = params.max_labelled_rows
    outcomes: list[ExperimentDecision] = []
    for _ in range(args.trials):
        if mode == "shadow":
            paired = shadow_trial(rng, p1, p2, args.agreement, limit)
            look: Look = lambda n, c=paired: experiment.decide_shadow(c(n), required, params)  # noqa: E731
        else:
            arms = canary_trial(rng, p1, p2, params.canary_share, limit)
            look = lambda n, c=arms: experiment.decide_canary(c(n), required, params)  # noqa: E731
        outcomes.append(run_trial(look, args.cycle_rows, limit))
    promoted = sum(o.decision == "promote" for o in outcomes)
    low, high = (float(v) for v in proportion_confint(promoted, len(outcomes), method="wilson"))
    rate = promoted / len(outcomes)
    if difference > 0:
        target, met = f">= {params.power}", rate >= params.power
    else:
        target, met = f"<= {params.alpha}", rate <= params.alpha
    rows = statistics.median(o.labelled_rows for o in outcomes)
    return Cell(mode, scenario, difference, rate, low, high, rows, target, met)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--trials", type=int, default=600)
    parser.add_argument("--modes", nargs="+", choices=["shadow", "canary"], default=["shadow", "canary"])
    parser.add_argument("--baseline", type=float, default=0.8, help="the champion's accuracy")
    parser.add_argument("--agreement", type=float, default=0.5, help="shadow: share of copied outcomes")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    loaded = load_params(args.params)
    if loaded.experiment is None or loaded.monitor is None:
        parser.error(f"{args.params} needs both `experiment:` and `monitor:` sections")
    params = loaded.experiment
    args.cycle_rows = loaded.monitor.min_window_rows
    scenarios = [
        ("worse by the margin", -params.non_inferiority_margin),
        ("equal", 0.0),
        ("better by the MDE", params.min_detectable_effect),
    ]
    sys.stdout.write(
        f"alpha {params.alpha}, power {params.power}, MDE {params.min_detectable_effect}, "
        f"margin {params.non_inferiority_margin}, champion accuracy {args.baseline}, "
        f"a look every {args.cycle_rows} labelled rows, {args.trials} trials per row\n"
    )
    out = sys.stdout
    started = time.perf_counter()
    cells: list[Cell] = []
    for mode in args.modes:
        required = experiment.required_rows(mode, params, args.baseline)
        out.write(f"{mode}: the power analysis plans {required} labelled rows\n")
        cells += [cell(mode, name, diff, params, args) for name, diff in scenarios]
    out.write(
        "\n| mode | true difference | promoted | 95% CI | target | met |"
        " median labelled rows to a decision |\n| --- | --- | --- | --- | --- | --- | --- |\n"
    )
    for c in cells:
        out.write(
            f"| {c.mode} | {c.scenario} ({c.difference:+.3f}) | {c.promoted:.3f} | "
            f"[{c.low:.3f}, {c.high:.3f}] | {c.target} | {'yes' if c.met else 'NO'} | {c.median_rows:.0f} |\n"
        )
    out.write(f"\n{time.perf_counter() - started:.0f} s\n")
    return 0 if all(c.met for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
