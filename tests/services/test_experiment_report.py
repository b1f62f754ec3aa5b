"""The look's arms report on a real prediction log and shadow log: the decision's pairs, both arms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.services.test_experiment import NAME, FakeRegistry, start
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain.evaluation import predicted
from titanic_mlops.services import experiment as service
from titanic_mlops.services import experiment_report
from titanic_mlops.stores.interfaces import LoggedPrediction
from titanic_mlops.stores.shadow_log import ShadowLog, ShadowPrediction
from titanic_mlops.stores.sqlite_log import SqlitePredictionLog

pytestmark = pytest.mark.slow


def scores(rng: np.random.Generator, labels: np.ndarray, right_share: float) -> np.ndarray:
    """P(survived) whose served decision is right on about `right_share` of the passengers."""
    right = rng.random(len(labels)) < right_share
    survived = np.where(right, labels, 1 - labels)
    return np.where(survived == 1, 0.5, 0.1) + rng.uniform(0.0, 0.4, len(labels))


def serve(log: SqlitePredictionLog, version: str, labels: np.ndarray, probability: np.ndarray) -> list[int]:
    rows = [
        LoggedPrediction("r", NAME, version, i + 1, {}, {}, float(p), int(s), 1.0)
        for i, (p, s) in enumerate(zip(probability, predicted(probability), strict=True))
    ]
    ids = log.append(rows)
    for pid, y in zip(ids, labels.tolist(), strict=True):
        log.add_feedback(int(y), prediction_id=pid)
    return ids


def test_a_look_s_arms_report_shows_the_accuracies_the_decision_counted(tmp_path: Path) -> None:
    registry, paths = FakeRegistry(), StateLayout(tmp_path)
    log, shadow = SqlitePredictionLog(tmp_path / "predictions.db"), ShadowLog(paths.shadow_log)
    try:
        state = start(registry, paths)
        rng = np.random.default_rng(7)
        labels = rng.integers(0, 2, 200)
        ids = serve(log, "1", labels, scores(rng, labels, 0.85))
        serve(log, "9", labels[:20], scores(rng, labels[:20], 1.0))  # another version's rows: no pair
        challenger = scores(rng, labels[:150], 0.6)  # the last 50 rows were never shadowed
        shadow.append(
            [
                ShadowPrediction(pid, "challenger", "2", float(p), int(s), 1.0)
                for pid, p, s in zip(ids, challenger, predicted(challenger), strict=False)
            ]
        )
        decision = service.look(state, log, shadow, paths)
        pairs = service.shadow_pairs(state, log, shadow)
        written = experiment_report.write(StateLayout(tmp_path), state, decision, pairs)
    finally:
        log.close()
        shadow.close()
    assert decision.labelled_rows == len(pairs) == 150
    assert decision.champion_accuracy is not None and decision.challenger_accuracy is not None
    assert decision.champion_accuracy - decision.challenger_accuracy > 0.1
    (stored,) = (tmp_path / "evidently").glob(f"*/snapshots/{written['arms']}.json")
    results = json.loads(stored.read_text())["metric_results"].values()
    located = [(r["metric_value_location"]["metric"]["params"], r.get("value")) for r in results]
    accuracy = {p["classification_name"]: v for p, v in located if p["type"].endswith(":Accuracy")}
    assert accuracy == pytest.approx(
        {"champion": decision.champion_accuracy, "challenger": decision.challenger_accuracy}
    )
    (html,) = (tmp_path / "reports").glob("*-v2-arms.html")
    assert html.stat().st_size > 10_000
