"""`titanic-mlops status` as a person reads it: a version on every event, gate checks, lineage."""

from __future__ import annotations

from typing import Any

from titanic_mlops.services import status

CHAMPION = {
    "version": "3",
    "run_id": "0123456789abcdef",
    "metrics": {"holdout_accuracy": 0.8, "holdout_roc_auc": 0.86},
    "lineage": {
        "git_commit": "a1b2c3d4e5f6a7b8",  # pragma: allowlist secret
        "data_md5": "f" * 32,
        "feature_service": "titanic_model_v1",
    },
}
EVENTS: list[dict[str, Any]] = [
    {
        "event": "monitoring",
        "time": "t1",
        "trigger": "drift",
        "reason": "drift share 0.4 >= 0.3",
        "drift_share": 0.4,
    },
    {"event": "retraining", "time": "t2", "trigger": "drift", "reason": "x " * 300, "new_version": "4"},
    {"event": "retraining_refused", "time": "t3", "trigger": "drift", "reason": "only 3 labelled rows"},
    {
        "event": "promotion",
        "time": "t4",
        "trigger": "drift",
        "challenger_version": "4",
        "reason": "challenger 4 beats champion 3",
        "checks": [
            {"check": "accuracy_not_worse", "passed": True, "detail": "0.81 >= 0.80 - 0.01"},
            {"check": "fairness_gap", "passed": False, "detail": "0.2 > 0.1"},
        ],
    },
    {"event": "rollback", "time": "t5", "trigger": "manual", "champion_before": "4", "champion_after": "3"},
]


def rendered() -> str:
    return status.render(
        {
            "model_name": "m",
            "tracking_uri": "u",
            "champion": CHAMPION,
            "challenger": None,
            "history": EVENTS,
            "monitoring": {"latest": None},
        }
    )


def test_no_event_shows_a_version_it_does_not_have() -> None:
    text = rendered()
    assert "vNone" not in text
    assert "retraining_refused  trigger=drift: only 3 labelled rows" in text
    assert "monitoring  trigger=drift  drift share 0.40: drift share 0.4 >= 0.3" in text
    assert "rollback  trigger=manual  v4 -> v3" in text
    assert "promotion  trigger=drift  v4: challenger 4 beats champion 3" in text


def test_gate_checks_are_pass_fail_lines_and_reasons_stay_short() -> None:
    lines = rendered().splitlines()
    assert "      PASS accuracy_not_worse: 0.81 >= 0.80 - 0.01" in lines
    assert "      FAIL fairness_gap: 0.2 > 0.1" in lines
    assert max(len(line) for line in lines) < 160


def test_the_champion_shows_its_lineage() -> None:
    text = rendered()
    assert "champion   v3  accuracy 0.8000  roc_auc 0.8600  run 01234567" in text
    assert "lineage: git_commit a1b2c3d4e5f6, data_md5 ffffffffffff, feature_service titanic_model_v1" in text
    assert "challenger none" in text
