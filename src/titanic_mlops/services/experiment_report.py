"""The Evidently view of the online experiment: both arms on the same labelled passengers, each look.

Shadow only: there both models scored the same passengers, so one report holds both arms, and the
Evidently dashboard plots each arm's accuracy side by side (a canary's arms answer different
passengers; their counts are in `status --json`). A report that cannot be built is logged, never
raised: the look's decision stands without it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pandas as pd

from titanic_mlops.adapters.evidently import reports as evidently_reports
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain.experiment_records import ExperimentDecision, ExperimentState

logger = logging.getLogger(__name__)


def project(model_name: str) -> str:
    """The Evidently project of a model's experiments, beside its monitoring project."""
    return f"{model_name}-experiment"


def write(
    layout: StateLayout, state: ExperimentState, decision: ExperimentDecision, pairs: pd.DataFrame
) -> dict[str, str]:
    """The look's arms report as an Evidently snapshot and `<reports>/<stamp>-v<N>-arms.html`."""
    try:
        snapshot = evidently_reports.compare_arms(pairs)
    except Exception:
        logger.exception("experiment: the arms report of v%s failed", state.challenger_version)
        return {}
    if snapshot is None:
        return {}
    labels = {
        "challenger_version": state.challenger_version,
        "champion_version": state.champion_version,
        "decision": decision.decision,
        "labelled_rows": str(decision.labelled_rows),
    }
    stamp = f"{datetime.fromtimestamp(time.time(), UTC):%Y%m%dT%H%M%SZ}-v{state.challenger_version}"
    return evidently_reports.save_arms(
        snapshot, layout.evidently, project(state.model_name), layout.reports, stamp, labels
    )
