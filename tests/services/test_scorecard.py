"""The ML Test Score: 1 only for checks that ran and passed, 0.5 for a documented manual test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from titanic_mlops.domain.ml_test_score import SECTIONS, TESTS, MlTest, Outcome, score
from titanic_mlops.services import scorecard

ROOT = Path(__file__).resolve().parents[2]


def junit(path: Path, cases: dict[str, str]) -> Path:
    """A pytest-style JUnit report: 'tests/x/test_y.py::test_z[p]' -> 'pass' | 'fail' | 'skip'."""
    body = []
    for test_id, status in cases.items():
        file, name = test_id.split("::")
        classname = file.removesuffix(".py").replace("/", ".")
        inner = {"pass": "", "fail": "<failure message='x'/>", "skip": "<skipped message='x'/>"}[status]
        body.append(f'<testcase classname="{classname}" name="{name}">{inner}</testcase>')
    path.write_text(f"<testsuites><testsuite>{''.join(body)}</testsuite></testsuites>")
    return path


def test_there_are_28_tests_seven_per_section_and_every_check_exists() -> None:
    assert len(TESTS) == 28
    for section in SECTIONS:
        assert sum(t.section == section for t in TESTS) == 7, section
    for test in TESTS:
        for check in test.automated:
            file, _, name = check.partition("::")
            assert (ROOT / file).is_file(), check
            assert not name or f"def {name}(" in (ROOT / file).read_text(), check


def test_a_check_counts_only_when_it_ran_and_passed(tmp_path: Path) -> None:
    test = MlTest("x-1", "data", "t", ("tests/a/test_a.py::test_one", "tests/a/test_b.py"))
    cases = {"tests/a/test_a.py::test_one[p1]": "pass", "tests/a/test_b.py::test_two": "pass"}
    assert score(test, scorecard.read_junit([junit(tmp_path / "ok.xml", cases)]), documented=False) == 1.0
    for status in ("fail", "skip"):
        report = junit(tmp_path / f"{status}.xml", {**cases, "tests/a/test_a.py::test_one[p2]": status})
        assert score(test, scorecard.read_junit([report]), documented=False) == 0.0, status
    assert score(test, Outcome({}), documented=False) == 0.0  # not run proves nothing
    manual = MlTest("x-2", "data", "t", ("tests/a/test_a.py::test_one",), ("docs/x.md", "phrase"))
    assert score(manual, Outcome({}), documented=True) == 0.5


def test_the_final_score_is_the_lowest_section_and_a_drop_fails(tmp_path: Path) -> None:
    everything = {check: "pass" for t in TESTS for check in t.automated if "::" in check}
    card = scorecard.scorecard(scorecard.read_junit([junit(tmp_path / "all.xml", everything)]), ROOT)
    files = {c for t in TESTS for c in t.automated if "::" not in c}
    assert card["final"] == min(card["sections"].values())
    assert all(r["score"] == 1.0 for r in card["tests"] if not set(r["evidence"]) & files)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"final": card["final"] + 1}))
    with pytest.raises(scorecard.ScoreDropped, match="fell below"):
        scorecard.check_baseline(card, baseline)
    text = scorecard.markdown(card)
    assert all(f"## {s}:" in text for s in SECTIONS) and "Final score" in text


def test_a_missing_report_is_named(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no JUnit report"):
        scorecard.read_junit([tmp_path / "absent.xml"])
