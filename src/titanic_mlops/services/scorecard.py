"""`titanic-mlops scorecard`: the ML Test Score of this run, from pytest's JUnit XML report.

A check counts only when it ran and passed in the report given (`make test` and `make
scorecard` write one); a skipped test proves nothing. The committed baseline is the score CI
must not fall below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree  # nosec B405 - parses pytest's own report, never untrusted input

from titanic_mlops import atomic
from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.domain.ml_test_score import SECTIONS, TESTS, MlTest, Outcome, score

_PARAMS = re.compile(r"\[.*\]$")


class ScoreDropped(TitanicMlopsError):
    """The final score fell below the committed baseline."""


def read_junit(paths: Iterable[Path]) -> Outcome:
    """Every test case of the reports: `tests/x/test_y.py::test_z` -> passed (and not skipped).

    Within one report every parametrization must pass; a later report (a rerun) replaces an
    earlier one's result for the tests it ran.
    """
    passed: dict[str, bool] = {}
    for path in paths:
        passed.update(_read_one(path))
    return Outcome(passed)


def _read_one(path: Path) -> dict[str, bool]:
    passed: dict[str, bool] = {}
    if not path.is_file():
        raise TitanicMlopsError(f"--junit: no JUnit report at {path}; run `make test` or `make scorecard`")
    root = ElementTree.parse(path).getroot()  # noqa: S314  # nosec B314 - our own report
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        module = next((i for i in range(len(parts), 0, -1) if parts[i - 1].startswith("test_")), len(parts))
        test_id = "/".join(parts[:module]) + ".py::" + _PARAMS.sub("", case.get("name", ""))
        ok = not any(case.find(tag) is not None for tag in ("failure", "error", "skipped"))
        passed[test_id] = passed.get(test_id, True) and ok
    return passed


def documented(test: MlTest, root: Path) -> bool:
    if test.manual is None:
        return False
    doc, phrase = test.manual
    path = root / doc
    return path.is_file() and phrase in path.read_text(encoding="utf-8")


def scorecard(outcome: Outcome, root: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        {
            "key": t.key,
            "section": t.section,
            "title": t.title,
            "score": score(t, outcome, documented(t, root)),
            "evidence": list(t.automated),
            "missing": [c for c in t.automated if not outcome.proves(c)],
        }
        for t in TESTS
    ]
    sections = {s: float(sum(float(r["score"]) for r in rows if r["section"] == s)) for s in SECTIONS}
    return {"tests": rows, "sections": sections, "final": min(sections.values()), "out_of": 7}


def markdown(card: dict[str, Any]) -> str:
    lines = ["# ML Test Score", ""]
    for section in SECTIONS:
        lines += [
            f"## {section}: {card['sections'][section]:g} / 7",
            "",
            "| test | score | missing |",
            "| --- | --- | --- |",
        ]
        for row in card["tests"]:
            if row["section"] == section:
                missing = ", ".join(f"`{m}`" for m in row["missing"]) or "—"
                lines.append(f"| {row['key']} {row['title']} | {row['score']:g} | {missing} |")
        lines.append("")
    lines.append(f"**Final score (lowest section): {card['final']:g} / 7**")
    return "\n".join(lines) + "\n"


def write(card: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    atomic.write_json(json_path, card)
    atomic.write_text(markdown_path, markdown(card))


def check_baseline(card: dict[str, Any], baseline: Path) -> None:
    """Raise `ScoreDropped` when the final score is below the committed one."""
    import json

    committed = float(json.loads(baseline.read_text(encoding="utf-8"))["final"])
    if card["final"] < committed:
        raise ScoreDropped(
            f"ML Test Score {card['final']:g} fell below the committed {committed:g} ({baseline})"
        )
