"""Moving state between profiles: `migrate-log`, `migrate-monitoring`."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator

from titanic_mlops.cli.context import deployment, print_json
from titanic_mlops.cli.help import Subparsers, command
from titanic_mlops.domain.errors import TitanicMlopsError

logger = logging.getLogger("titanic_mlops")


@contextlib.contextmanager
def _store_urls() -> Iterator[None]:
    """A URL the store parser refuses is the user's mistake: one line, not a bug report."""
    try:
        yield
    except ValueError as exc:
        raise TitanicMlopsError(
            f"{exc}; see `titanic-mlops {{migrate-log,migrate-monitoring}} --help`"
        ) from exc


def _migrate_log(args: argparse.Namespace) -> int:
    from titanic_mlops.stores import migration

    with _store_urls():
        counts = migration.copy_log(args.source, args.target)
    logger.info(
        "migrate-log: %d predictions, %d feedback rows copied", counts["predictions"], counts["feedback"]
    )
    print_json(counts)
    return 0


def _migrate_monitoring(args: argparse.Namespace) -> int:
    from titanic_mlops.stores import factory, migration

    name = deployment().model_name
    with _store_urls():
        source = factory.open_monitoring_store(args.source, name)
        target = factory.open_monitoring_store(args.target, name)
    try:
        copied = migration.migrate_monitoring(source, target)
        cursor = target.policy().cursor
    finally:
        source.close()
        target.close()
    logger.info("migrate-monitoring: %d cycles copied, cursor at prediction %d", copied, cursor)
    print_json({"cycles": copied, "cursor": cursor})
    return 0


def register(sub: Subparsers) -> None:
    p = command(
        sub,
        "migrate-log",
        _migrate_log,
        "Copy the prediction log to another store (ids kept).",
        ["titanic-mlops migrate-log --from sqlite:///.state/predictions.db --to postgresql://u:p@db/titanic"],
    )
    p.add_argument("--from", dest="source", required=True, help="sqlite:///... or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty log: sqlite:///... or postgresql://..."
    )

    p = command(
        sub,
        "migrate-monitoring",
        _migrate_monitoring,
        "Copy the monitoring state to another store (cursor kept).",
        [
            "titanic-mlops migrate-monitoring --from file:///work/.state/monitoring --to postgresql://u:p@db/titanic"
        ],
    )
    p.add_argument("--from", dest="source", required=True, help="file:///dir or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty store: file:///dir or postgresql://..."
    )
