"""The online A/B test end to end (`experiment.mode: shadow`), against a real API process.

Concept drift retrains through `dvc repro` and the gate as in tests/e2e/test_loop.py, but the
passed candidate becomes `challenger`, not `champion`: the API loads it beside the champion and
scores every request with both while the champion answers. The drift keeps alarming (the
champion still answers), and the policy holds retraining back while the challenger is tested.
Once the planned number of labelled rows has arrived, the monitoring cycle's look promotes it
(McNemar's exact test on the same passengers), with its statistics in `status --json`, and the
API follows the new champion. Steady traffic runs throughout: no request fails while the
challenger is loaded and promoted. The rejection is tests/e2e/test_shadow_reject.py.
"""

from __future__ import annotations

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
from titanic_mlops.stores import history

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with running_loop(tmp_path_factory.mktemp("shadow"), {}, experiment_mode="shadow") as running:
        yield running


def test_a_drift_retraining_serves_in_shadow_until_the_online_test_promotes_it(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    enter(loop, monkeypatch)
    workspace = ["--workspace", str(loop.work)]
    champion = served_version(loop.url)

    with Load(loop.url, pause=0.25).running(steady_body(loop)) as load:
        send(loop, "concept", seed=4)
        assert cli_json("monitor", "--json", *workspace)["action"] == "none"
        send(loop, "concept", seed=5)
        second = cli_json("monitor", "--json", *workspace)
        assert second["action"] == "retrain" and second["promoted"] is False, second
        assert "staged as challenger" in second["reason"]
        challenger = str(second["new_version"])
        assert served_version(loop.url) == champion, "the champion alias moved before the experiment"

        wait_for(lambda: shadowed(loop.url) == challenger, 120, "the API loading the challenger in shadow")
        started = experiment_status()
        assert (started["challenger_version"], started["mode"]) == (challenger, "shadow")
        assert started["decision"] == "continue"
        required = int(started["required_rows"])
        assert 100 < required <= 5000

        seed, looks = 6, math.ceil(required / ROWS) + 2
        shown = started
        for _ in range(looks):
            sent = send(loop, "concept", seed)
            assert set(sent.model_versions) == {champion}, "in shadow the champion answers every request"
            seed += 1
            cycle = cli_json("monitor", "--json", *workspace)
            assert cycle["action"] == "none", cycle  # the drift alarms, the experiment holds it back
            shown = experiment_status()
            if shown["decision"] != "continue":
                break
        assert shown["decision"] == "promote", shown
        assert shown["labelled_rows"] >= required and shown["p_value"] < 0.05
        assert shown["challenger_accuracy"] > shown["champion_accuracy"] and shown["ci_low"] > 0
        decided = [e for e in history.read(loop.state / "history.jsonl") if isinstance(e, ExperimentEvent)]
        assert [(e.challenger_version, e.decision, e.promoted) for e in decided] == [
            (challenger, "promote", True)
        ]

        wait_for(lambda: served_version(loop.url) == challenger, 120, "the API following the promotion")
        wait_for(lambda: load.versions[-1:] == [challenger], 60, "the steady load answered by the challenger")
    assert load.failures == [], load.failures[:5]
    assert set(load.versions) == {champion, challenger}, "every answer names the champion or the challenger"
    assert send(loop, "concept", seed).model_versions == {challenger: ROWS}
