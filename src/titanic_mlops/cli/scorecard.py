"""`titanic-mlops scorecard`: the ML Test Score from this run's JUnit report(s)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path.cwd()


def _scorecard(args: argparse.Namespace) -> int:
    from titanic_mlops.services import scorecard

    card = scorecard.scorecard(scorecard.read_junit(args.junit), ROOT)
    scorecard.write(card, args.json, args.markdown)
    sys.stdout.write(scorecard.markdown(card))
    if args.baseline is not None:
        scorecard.check_baseline(card, args.baseline)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = "Score the project on the 28 ML Test Score tests (Breck et al. 2017) from JUnit reports."
    p = sub.add_parser("scorecard", help=help_text, description=help_text)
    p.set_defaults(handler=_scorecard)
    p.add_argument(
        "--junit", type=Path, nargs="+", default=[Path("reports/junit.xml")], help="pytest JUnit XML"
    )
    p.add_argument("--json", type=Path, default=Path("reports/scorecard.json"), help="the score as JSON")
    p.add_argument(
        "--markdown", type=Path, default=Path("reports/scorecard.md"), help="the table as Markdown"
    )
    p.add_argument(
        "--baseline", type=Path, default=None, help="fail when the final score is below this one's"
    )
