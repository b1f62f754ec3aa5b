"""`titanic-mlops`: one subcommand per stage and service of the loop.

Expected failures (`TitanicMlopsError`) print one line and exit 1; the subcommands import what
they need only when they run.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from titanic_mlops.cli import explain, loop, migrate, models, pipeline, scorecard
from titanic_mlops.domain.errors import TitanicMlopsError

_QUIET = ("feast", "great_expectations", "alembic", "mlflow", "httpx")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="titanic-mlops", description=__doc__.splitlines()[0])
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (pipeline, models, loop, migrate, explain, scorecard):
        group.register(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        code: int = args.handler(args)
    except TitanicMlopsError as exc:
        sys.stderr.write(f"titanic-mlops {args.command}: error: {exc}\n")
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
