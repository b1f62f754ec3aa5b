"""A stand-in for the retraining flow: the `retrain` deployment's shape, a run that holds its slot.

It records that it started (one file per event id) and then holds until the test releases it, so
a second drift event certainly arrives while the first retraining is still running.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow

HOLD_SECONDS = 120.0


@flow(name="retrain-on-drift")
def hold_retraining(
    workspace: str,
    event_id: str | None = None,
    monitor_flow_run_id: str | None = None,
    window_ids: list[int] | None = None,
    drift_share: float | None = None,
    params_file: str = "params.yaml",
) -> str:
    root = Path(workspace)
    (root / f"started-{event_id}").write_text(f"{monitor_flow_run_id} {window_ids} {drift_share}\n")
    deadline = time.monotonic() + HOLD_SECONDS
    while not (root / "release").exists():  # the test's condition, with a deadline
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.2)
    return str(event_id)
