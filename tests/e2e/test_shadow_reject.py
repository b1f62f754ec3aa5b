"""The online A/B test rejecting a challenger no better than the champion, against a real API process.

Undrifted labelled traffic, then a manual retraining (`titanic-mlops retrain`, the real flow:
`dvc repro` and the gate): the model retrained on that feedback passes the gate, so in shadow mode
it is staged as `challenger`, and the API scores it beside the champion. Its monitoring cycles'
looks reach the horizon (`max_labelled_rows`, lowered here so that two windows suffice) without
showing it better, and the experiment rejects it: `challenger` is removed, the champion never
moved, `status --json` and the history show the statistics, and an Evidently report compares the
two arms of each look. Steady traffic runs throughout: no request fails while the challenger is
loaded and rejected. The promotion is tests/e2e/test_shadow_loop.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest

from tests.support.loop import (
    ROWS,
    Load,
    Loop,
    cli_json,
    enter,
    experiment_status,
    running_loop,
    send,
    served_version,
    shadowed,
    steady_body,
)
from tests.support.net import wait_for
from titanic_mlops.domain.experiment_records import ExperimentEvent
from titanic_mlops.domain.versions import CHALLENGER, CHAMPION
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.stores import history

pytestmark = pytest.mark.slow
HORIZON = 2 * ROWS  # max_labelled_rows: the deciding look comes after two windows


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("reject")
    with running_loop(root, {}, experiment_mode="shadow", max_labelled_rows=HORIZON) as running:
        yield running


def test_a_challenger_retrained_on_undrifted_feedback_is_rejected_in_shadow(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    enter(loop, monkeypatch)
    workspace = ["--workspace", str(loop.work)]
    champion = served_version(loop.url)

    with Load(loop.url, pause=0.25).running(steady_body(loop)) as load:
        send(loop, "none", seed=4)
        send(loop, "none", seed=5)
        retrained = cli_json("retrain", *workspace)
        assert retrained["promoted"] is False and "staged as challenger" in retrained["reason"], retrained
        challenger = str(retrained["new_version"])
        wait_for(lambda: shadowed(loop.url) == challenger, 120, "the API loading the challenger in shadow")
        started = experiment_status()
        assert (started["challenger_version"], started["decision"]) == (challenger, "continue")

        shown, seed = started, 6
        for _ in range(math.ceil(HORIZON / ROWS) + 2):
            assert set(send(loop, "none", seed).model_versions) == {champion}
            seed += 1
            assert cli_json("monitor", "--json", *workspace)["action"] == "none"
            shown = experiment_status()
            if shown["decision"] != "continue":
                break
        wait_for(lambda: shadowed(loop.url) is None, 60, "the API dropping the rejected challenger")
    assert load.failures == [], load.failures[:5]
    assert set(load.versions) == {champion}, "the champion answered every steady request"

    assert shown["decision"] == "reject" and shown["running"] is False, shown
    assert shown["labelled_rows"] >= HORIZON, shown
    assert "not shown better" in shown["reason"] or "no disagreement" in shown["reason"], shown
    assert not (shown["p_value"] < 0.05 and shown["ci_low"] > 0), "a rejection at the horizon"
    assert shown["difference"] == pytest.approx(shown["challenger_accuracy"] - shown["champion_accuracy"])
    assert shown["ci_low"] <= shown["difference"] <= shown["ci_high"]
    registry = Deployment().registry()
    assert registry.alias(CHALLENGER) is None
    assert registry.require(CHAMPION).version == champion == served_version(loop.url)
    decided = [e for e in history.read(loop.state / "history.jsonl") if isinstance(e, ExperimentEvent)]
    assert [(e.challenger_version, e.decision, e.promoted) for e in decided] == [
        (challenger, "reject", False)
    ]
    assert decided[0].p_value == shown["p_value"] and decided[0].labelled_rows == shown["labelled_rows"]

    reports = sorted((loop.state / "reports").glob(f"*-v{challenger}-arms.html"))
    assert reports and all(r.stat().st_size > 10_000 for r in reports), "each look writes the arms report"
    snapshots = [json.loads(p.read_text()) for p in (loop.state / "evidently").glob("*/snapshots/*.json")]
    arms = [s for s in snapshots if s["metadata"].get("report") == "arms"]
    assert "decision=reject" in {t for s in arms for t in s["tags"]}
