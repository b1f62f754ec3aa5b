"""The online A/B test end to end (`experiment.mode: shadow`), against a real API process.

Concept drift retrains through `dvc repro` and the gate as in tests/e2e/test_loop.py, but the
passed candidate becomes `challenger`, not `champion`: the API loads it beside the champion and
scores every request with both while the champion answers. The drift keeps alarming (the
champion still answers), and the policy holds retraining back while the challenger is tested.
Once the planned number of labelled rows has arrived, the monitoring cycle's look promotes it
(McNemar's exact test on the same passengers), with its statistics in `status --json`, and the
API follows the new champion.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.loop import ROWS, Loop, cli_json, enter, running_loop, send, served_version
from titanic_mlops.cli.main import main
from titanic_mlops.domain.experiment_records import ExperimentEvent
from titanic_mlops.stores import history

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with running_loop(tmp_path_factory.mktemp("shadow"), {}, experiment_mode="shadow") as running:
        yield running


def status() -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--json"]) == 0
    shown: dict[str, Any] = json.loads(out.getvalue())
    return shown


def shadowed(url: str) -> str | None:
    experiment = httpx.get(f"{url}/model", timeout=10).json().get("experiment") or {}
    return (experiment.get("challenger") or {}).get("version") if experiment.get("mode") == "shadow" else None


def test_a_drift_retraining_serves_in_shadow_until_the_online_test_promotes_it(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    enter(loop, monkeypatch)
    workspace = ["--workspace", str(loop.work)]
    champion = served_version(loop.url)

    send(loop, "concept", seed=4)
    assert cli_json("monitor", "--json", *workspace)["action"] == "none"
    send(loop, "concept", seed=5)
    second = cli_json("monitor", "--json", *workspace)
    assert second["action"] == "retrain" and second["promoted"] is False, second
    assert "staged as challenger" in second["reason"]
    challenger = str(second["new_version"])
    assert served_version(loop.url) == champion, "the champion alias moved before the experiment"

    deadline = time.monotonic() + 120
    while shadowed(loop.url) != challenger:
        assert time.monotonic() < deadline, "the API never loaded the challenger in shadow"
        time.sleep(1)
    started = status()["experiment"]
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
        shown = status()["experiment"]
        if shown["decision"] != "continue":
            break
    assert shown["decision"] == "promote", shown
    assert shown["labelled_rows"] >= required and shown["p_value"] < 0.05
    assert shown["challenger_accuracy"] > shown["champion_accuracy"] and shown["ci_low"] > 0
    decided = [e for e in history.read(loop.state / "history.jsonl") if isinstance(e, ExperimentEvent)]
    assert [(e.challenger_version, e.decision, e.promoted) for e in decided] == [
        (challenger, "promote", True)
    ]

    deadline = time.monotonic() + 120
    while served_version(loop.url) != challenger:
        assert time.monotonic() < deadline, "the API did not follow the promoted challenger"
        time.sleep(1)
    assert send(loop, "concept", seed).model_versions == {challenger: ROWS}
