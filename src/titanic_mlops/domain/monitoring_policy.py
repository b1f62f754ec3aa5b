"""When monitoring asks for a retraining: a pure decision over one window, with memory.

Rules (params.yaml `monitor:`), in order:
1. a window smaller than `min_window_rows` is not judged (its rows wait for the next cycle);
2. a window alarms when its drift share reaches `drift_share_threshold`, or when at least
   `min_labelled_rows` of it carry ground truth and the served accuracy is under `quality_floor`;
3. `consecutive_windows` alarming windows in a row are needed (hysteresis against one noisy window);
4. no retraining within `cooldown_minutes` of the previous one;
5. no retraining while a challenger is in its online experiment (params.yaml `experiment:`): it
   is the answer to the drift already, and a new one would restart the test before it decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from titanic_mlops.domain.params import MonitorParams
from titanic_mlops.domain.records import Action


@dataclass(frozen=True)
class WindowStats:
    rows: int
    drift_share: float
    labelled_rows: int = 0
    accuracy: float | None = None


@dataclass(frozen=True)
class PolicyState:
    """What the policy remembers between cycles; `cursor` is the last prediction id judged."""

    cursor: int = 0
    consecutive: int = 0
    last_retrain: float | None = None


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str
    judged: bool
    drift_detected: bool
    quality_breach: bool
    state: PolicyState


def decide(
    stats: WindowStats, state: PolicyState, params: MonitorParams, now: float, testing: str | None = None
) -> Verdict:
    """The action for one window and the state to remember (the cursor is the caller's job).

    `testing` is the version of a challenger in a running online experiment, if any.
    """
    if stats.rows < params.min_window_rows:
        return Verdict(
            "none",
            f"window of {stats.rows} rows is under min_window_rows {params.min_window_rows}: waiting",
            judged=False,
            drift_detected=False,
            quality_breach=False,
            state=state,
        )
    drifted = stats.drift_share >= params.drift_share_threshold
    breach = (
        stats.accuracy is not None
        and stats.labelled_rows >= params.min_labelled_rows
        and stats.accuracy < params.quality_floor
    )
    signals = []
    if drifted:
        signals.append(f"drift share {stats.drift_share:.2f} >= {params.drift_share_threshold:.2f}")
    if breach:
        signals.append(
            f"accuracy {stats.accuracy:.3f} < quality floor {params.quality_floor:.3f} "
            f"on {stats.labelled_rows} labelled rows"
        )
    consecutive = state.consecutive + 1 if signals else 0
    after = replace(state, consecutive=consecutive)

    def verdict(action: Action, reason: str, remembered: PolicyState) -> Verdict:
        return Verdict(action, reason, True, drifted, breach, remembered)

    if not signals:
        return verdict("none", f"no drift (share {stats.drift_share:.2f}) and quality holds", after)
    seen = f"{'; '.join(signals)} ({consecutive} of {params.consecutive_windows} windows)"
    if consecutive < params.consecutive_windows:
        return verdict("none", f"{seen}: waiting for confirmation", after)
    if state.last_retrain is not None:
        elapsed = (now - state.last_retrain) / 60.0
        if elapsed < params.cooldown_minutes:
            return verdict("none", f"{seen}: cooldown, last retraining {elapsed:.1f} min ago", after)
    if testing is not None:
        return verdict("none", f"{seen}: challenger v{testing} is in its online experiment", after)
    return verdict("retrain", seen, PolicyState(state.cursor, 0, now))
