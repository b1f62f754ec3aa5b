"""`titanic-mlops scorecard`: the ML Test Score from this run's JUnit report(s)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from titanic_mlops.cli.help import command


def _scorecard(args: argparse.Namespace) -> int:
    from titanic_mlops.services import scorecard

    card = scorecard.scorecard(scorecard.read_junit(args.junit or [Path("reports/junit.xml")]), Path.cwd())
    scorecard.write(card, args.json, args.markdown)
    sys.stdout.write(scorecard.markdown(card))
    if args.baseline is not None:
        scorecard.check_baseline(card, args.baseline)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = (
        "Score the project on the 28 ML Test Score tests (Breck et al. 2017) from JUnit reports. "
        "A test scores 1 when the checks mapped to it ran and passed in those reports, 0.5 for a "
        "documented manual procedure, 0 otherwise; the final score is the lowest section's."
    )
    p = command(
        sub,
        "scorecard",
        _scorecard,
        help_text,
        (
            "titanic-mlops scorecard --junit reports/junit.xml",
            "titanic-mlops scorecard --baseline docs/ml-test-score.json",
        ),
    )
    p.add_argument(
        "--junit",
        type=Path,
        nargs="+",
        default=None,
        help="pytest JUnit XML (default: reports/junit.xml)",
    )
    p.add_argument("--json", type=Path, default=Path("reports/scorecard.json"), help="the score as JSON")
    p.add_argument(
        "--markdown", type=Path, default=Path("reports/scorecard.md"), help="the table as Markdown"
    )
    p.add_argument(
        "--baseline", type=Path, default=None, help="fail when the final score is below this one's"
    )
