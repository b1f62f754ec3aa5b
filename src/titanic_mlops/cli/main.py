"""`titanic-mlops`: one subcommand per stage and service of the loop.

Errors are handled at this boundary: an expected failure (bad input, a missing model, a store
that does not answer) prints one line - what is wrong and what to run - and exits non-zero;
the traceback is shown only with `--debug`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from titanic_mlops.cli import errors, explain, loop, migrate, models, pipeline, scorecard, worker
from titanic_mlops.cli.help import Formatter, Parser, epilog

_QUIET = ("feast", "great_expectations", "alembic", "mlflow", "httpx")
_EXAMPLES = (
    "titanic-mlops status",
    "titanic-mlops predict --input data/external/titanic/test.csv --output submission.csv",
    "titanic-mlops serve --port 8000",
    "titanic-mlops COMMAND --help",
)


def parser() -> argparse.ArgumentParser:
    root = Parser(
        prog="titanic-mlops",
        description="Train, gate, serve and monitor the Titanic survival model.",
        epilog=epilog(_EXAMPLES),
        formatter_class=Formatter,
    )
    root.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    root.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (pipeline, models, loop, migrate, worker, explain, scorecard):
        group.register(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # MLflow configures its own handler at import, from this variable
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        # MLflow's artifact download bars (one per model load) say nothing a user needs.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"titanic-mlops {args.command}: interrupted\n")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        sys.stderr.write(f"titanic-mlops {args.command}: error: {errors.one_line(exc)}\n")
        return errors.exit_code(exc)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
