"""The open loop's reading of k6's end-of-test metrics (benchmarks/loadgen.py).

k6 counts a failed request as a *pass* of the `http_req_failed` rate (the check "failed" held),
so reading `fails` as the failures would report a server answering nothing but 500s as perfect.
"""

from __future__ import annotations

import pytest

from benchmarks import loadgen


def metrics(count: int, failed: int, dropped: int | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "http_req_duration": {"values": {"p(50)": 1.25, "p(99)": 3.5, "p(99.9)": 7.0, "max": 9.0}},
        "http_reqs": {"values": {"count": count, "rate": count / 5}},
        "http_req_failed": {
            "values": {"passes": failed, "fails": count - failed, "rate": failed / max(count, 1)}
        },
    }
    if dropped is not None:
        found["dropped_iterations"] = {"values": {"count": dropped, "rate": dropped / 5}}
    return found


def test_a_k6_summary_becomes_the_table_cell() -> None:
    cell = loadgen.summarised(metrics(2600, 3), rate=520, seconds=5)
    assert cell == {
        "target_rps": 520,
        "rps": 520.0,
        "p50": 1.25,
        "p99": 3.5,
        "p999": 7.0,
        "errors": 3.0,
        "dropped": 0.0,
    }


def test_requests_k6_could_not_start_are_counted() -> None:
    assert loadgen.summarised(metrics(2000, 0, dropped=600), rate=520, seconds=5)["dropped"] == 600.0


def test_a_run_that_sent_nothing_is_an_error() -> None:
    with pytest.raises(SystemExit, match="k6 sent nothing"):
        loadgen.summarised(metrics(0, 0), rate=10, seconds=5)


def test_the_script_the_open_loop_runs_is_there() -> None:
    script = loadgen.OPEN_LOOP_JS.read_text()
    assert "constant-arrival-rate" in script and "handleSummary" in script
