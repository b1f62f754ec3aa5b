"""`make bench-drift`: how often the monitoring policy cries wolf, and how often it catches drift.

Offline and self-contained: the reference is the snapshot's feature table (the feature module,
no Feast), a quick gradient-boosting model stands in for the champion, and every window is
`titanic-mlops simulate` traffic at the default window size (params.yaml monitor.min_window_rows)
with its ground truth, judged by the real Evidently reports and the real policy.

- false alarms: one long stream of undrifted windows through the policy (state carried from
  window to window, as in production); rate = retrain actions per window.
- detection: per scenario, trials of `consecutive_windows` drifted windows from a fresh state;
  rate = trials that end in a retrain action.
Prints a table; no assertion (the targets are <= 5% false alarms, >= 95% detection).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from titanic_mlops.adapters.evidently import reports as drift
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import evaluation, features, monitoring_data, monitoring_policy, scenarios
from titanic_mlops.domain import monitoring_data as frames
from titanic_mlops.domain import traffic as sim
from titanic_mlops.domain.params import MonitorParams
from titanic_mlops.domain.training import build_pipeline, estimator_for
from titanic_mlops.services import ingest

ROOT = Path(__file__).resolve().parents[1]


def build_world(params_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, object, pd.Series]:
    params = load_params(params_path)
    train = ingest.read_raw_csv(ROOT / "data/external/titanic/train.csv", labelled=True)
    test = ingest.read_raw_csv(ROOT / "data/external/titanic/test.csv", labelled=False)
    table = features.build_feature_table(
        pd.concat([train.drop(columns="Survived"), test]), params.features.event_timestamp
    )
    reference = monitoring_data.reference_frame(train.assign(source="snapshot"), table)
    model = build_pipeline(estimator_for("gradient_boosting", 42)).fit(
        reference.drop(columns=frames.LABEL), reference[frames.LABEL]
    )
    reference = monitoring_data.with_probability(
        reference, model.predict_proba(reference.drop(columns=frames.LABEL))[:, 1]
    )
    sizes = features.ticket_group_sizes(table[features.TICKET]).set_index(features.TICKET)[
        "ticket_group_size"
    ]
    return train, reference, model, sizes


def window(
    train: pd.DataFrame, name: str, rows: int, seed: int, model: object, sizes: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    traffic = sim.draw(train, scenarios.get(name), rows, seed)
    raw = features.records_columns(sim.records(traffic))
    group = pd.Series([str(t) for t in raw["Ticket"]]).map(sizes).astype("float64").to_numpy()
    inputs = features.inputs_frame(features.model_inputs(raw, group))
    probability = model.predict_proba(inputs)[:, 1]  # type: ignore[attr-defined]
    current = inputs.assign(**{frames.PROBABILITY: probability})
    labelled = pd.DataFrame(
        {
            frames.LABEL: traffic["Survived"].astype(int).to_numpy(),
            frames.PREDICTION: evaluation.predicted(probability),
            frames.PROBABILITY: probability,
        }
    )
    return current, labelled


def judge(
    reference: pd.DataFrame, current: pd.DataFrame, labelled: pd.DataFrame, params: MonitorParams
) -> monitoring_policy.WindowStats:
    result = drift.analyse(reference, current, params, labelled, full=False)
    return monitoring_policy.WindowStats(len(current), result.share, result.labelled_rows, result.accuracy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=60, help="undrifted windows in the stream")
    parser.add_argument("--trials", type=int, default=20, help="trials per drift scenario")
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    args = parser.parse_args()
    params = load_params(args.params).monitor
    assert params is not None, "params.yaml needs a monitor: section"
    started = time.time()
    train, reference, model, sizes = build_world(args.params)
    rows = params.min_window_rows
    lines = []

    state = monitoring_policy.PolicyState()
    alarms = retrains = 0
    shares, accuracies = [], []
    for i in range(args.windows):
        stats = judge(reference, *window(train, "none", rows, 10_000 + i, model, sizes), params)
        verdict = monitoring_policy.decide(stats, state, params, now=float(i))
        state = verdict.state
        alarms += verdict.drift_detected or verdict.quality_breach
        retrains += verdict.action == "retrain"
        shares.append(stats.drift_share)
        accuracies.append(stats.accuracy or 0.0)
    lines.append(
        (
            "none (false alarms)",
            args.windows,
            alarms / args.windows,
            retrains / args.windows,
            np.mean(shares),
            np.mean(accuracies),
            "<= 5%",
        )
    )

    for name in [n for n in scenarios.names() if n != "none"]:
        alarms = detected = 0
        shares, accuracies = [], []
        for trial in range(args.trials):
            state = monitoring_policy.PolicyState()
            for k in range(params.consecutive_windows):
                seed = 20_000 + trial * params.consecutive_windows + k
                stats = judge(reference, *window(train, name, rows, seed, model, sizes), params)
                verdict = monitoring_policy.decide(stats, state, params, now=float(k))
                state = verdict.state
                alarms += verdict.drift_detected or verdict.quality_breach
                shares.append(stats.drift_share)
                accuracies.append(stats.accuracy or 0.0)
            detected += verdict.action == "retrain"
        windows = args.trials * params.consecutive_windows
        lines.append(
            (
                f"{name} (detection)",
                windows,
                alarms / windows,
                detected / args.trials,
                np.mean(shares),
                np.mean(accuracies),
                ">= 95%",
            )
        )

    out = sys.stdout
    out.write(
        f"drift policy at window {rows} rows: share >= {params.drift_share_threshold}, column p < "
        f"{params.column_drift_p_value}, accuracy floor {params.quality_floor} "
        f"(>= {params.min_labelled_rows} labels), {params.consecutive_windows} consecutive windows\n\n"
    )
    header = ("windows", "window alarm rate", "retrain rate", "mean drift share", "mean accuracy", "target")
    out.write(f"| {'scenario':<22} | " + " | ".join(header) + " |\n")
    out.write(f"|{'-' * 24}|" + "|".join("-" * (len(h) + 2) for h in header) + "|\n")
    for name, windows, alarm, retrain, share, accuracy, target in lines:
        cells = (
            f"{windows:>7}",
            f"{alarm:>17.1%}",
            f"{retrain:>12.1%}",
            f"{share:>16.3f}",
            f"{accuracy:>13.3f}",
        )
        out.write(f"| {name:<22} | " + " | ".join(cells) + f" | {target:<6} |\n")
    out.write(f"\n{time.time() - started:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
