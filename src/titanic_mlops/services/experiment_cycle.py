"""The experiment inside a deployment: one evaluation per monitoring cycle, and its status view.

`services.experiment` holds the rules on explicit stores; this module opens the deployment's
(registry, prediction log, shadow log) around one call, writes the look's arms report
(`services.experiment_report`), and shapes `status --json`'s `experiment` with exactly the
issue's field names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain.experiment_records import ExperimentDecision
from titanic_mlops.domain.records import RollbackEvent
from titanic_mlops.services import experiment, experiment_report
from titanic_mlops.services.deployment import Deployment, opened_log
from titanic_mlops.stores.shadow_log import ShadowLog

STATUS_FIELDS = (
    "labelled_rows", "required_rows", "champion_accuracy", "challenger_accuracy", "difference",
    "ci_low", "ci_high", "p_value", "decision", "reason",
)  # fmt: skip


def run(deployment: Deployment) -> ExperimentDecision | RollbackEvent | None:
    """Evaluate the running experiment (or watch a fresh champion); None when there is none."""
    paths = deployment.state
    state = experiment.read_state(paths)
    if state is None or not (state.running or state.watching):
        return None
    shadow = ShadowLog(paths.shadow_log)
    try:
        with opened_log(deployment) as log:
            registry = deployment.registry()
            outcome = experiment.evaluate(registry, log, shadow, paths, deployment.history_path)
            if moved_an_alias(outcome):  # only then: the view's reads cost ~1.3 s a look
                deployment.save_registry_view(registry)
            if isinstance(outcome, ExperimentDecision) and state.mode == "shadow":
                pairs = experiment.shadow_pairs(state, log, shadow)
                experiment_report.write(deployment.state, state, outcome, pairs)
            return outcome
    finally:
        shadow.close()


def moved_an_alias(outcome: ExperimentDecision | RollbackEvent | None) -> bool:
    """A rollback, or a look that promoted or rejected; `continue` leaves every alias where it was."""
    if isinstance(outcome, RollbackEvent):
        return True
    return outcome is not None and outcome.decision != "continue"


def status(state_root: Path) -> dict[str, Any] | None:
    """The running or last experiment, as `status --json` shows it."""
    state = experiment.read_state(StateLayout(state_root))
    if state is None:
        return None
    last = state.last
    shown: dict[str, Any] = {"challenger_version": state.challenger_version, "mode": state.mode}
    if last is None:
        shown.update(dict.fromkeys(STATUS_FIELDS))
        shown.update(labelled_rows=0, required_rows=state.required_rows, decision="continue",
                     reason="started: waiting for labelled rows")  # fmt: skip
    else:
        shown.update({k: getattr(last, k) for k in STATUS_FIELDS})
    shown.update(running=state.running, watching=state.watching, champion_version=state.champion_version)
    return shown


def describe(outcome: ExperimentDecision | RollbackEvent | None) -> str:
    """One markdown paragraph: the monitoring flow's Prefect artifact."""
    if outcome is None:
        return "No online experiment is running."
    if isinstance(outcome, RollbackEvent):
        return f"**Rollback** v{outcome.champion_before} -> v{outcome.champion_after}: {outcome.reason}"
    return outcome.describe()
