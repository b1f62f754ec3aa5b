"""Responsible AI in the monitoring cycle: the window's anomalous share, fairness on its labels.

One hook call from `services.monitor`: the champion's detector (its hash-checked sidecar) flags
the window's logged model inputs; the labelled rows give the equalized-odds and demographic-
parity differences by sex, class and age band, as training reports them on the holdout.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from titanic_mlops.domain import anomaly, features, monitoring_data
from titanic_mlops.services import fairness
from titanic_mlops.services.anomaly import Detector

logger = logging.getLogger(__name__)


def anomalous_share(detector: Detector | None, window_inputs: pd.DataFrame) -> float | None:
    if detector is None or window_inputs.empty:
        return None
    columns = {c: window_inputs[c].to_numpy() for c in features.MODEL_INPUTS}
    return round(float(detector.flags(columns).anomalous.mean()), 4)


def window_fairness(labelled: pd.DataFrame, min_rows: int) -> dict[str, float]:
    """`<attribute>.equalized_odds_difference` / `.demographic_parity_difference` of the served decisions."""
    if len(labelled) < min_rows:
        return {}
    inputs = monitoring_data.current_frame(labelled)
    quality = monitoring_data.labelled_frame(labelled)
    reports = fairness.reports(
        inputs, quality[monitoring_data.LABEL].to_numpy(), quality[monitoring_data.PREDICTION].to_numpy()
    )
    return {
        k.removeprefix("fairness."): round(v, 4)
        for k, v in fairness.flat_metrics(reports).items()
        if k.endswith("_difference")
    }


def champion_detector(registry: Any) -> Detector | None:
    """The champion's detector; None (logged) when there is none or the sidecar cannot be read."""
    try:
        ref = registry.alias("champion")
        text = None if ref is None else registry.load_sidecar(ref)
    except Exception as exc:  # monitoring goes on without the share, never down with it
        logger.warning("no anomaly share this cycle: %s", exc)
        return None
    return None if text is None else Detector(anomaly.Sidecar.from_json(text))


def measures(
    deployment: Any, predictions: pd.DataFrame, labelled: pd.DataFrame, min_rows: int
) -> dict[str, Any]:
    """The CycleResult fields this module adds (hook r14 in services.monitor)."""
    window_inputs = monitoring_data.current_frame(predictions)
    return {
        "anomalous_share": anomalous_share(champion_detector(deployment.registry()), window_inputs),
        "fairness": window_fairness(labelled, min_rows),
    }
