"""Moving state between profiles: `migrate-log`, `migrate-monitoring`."""

from __future__ import annotations

import argparse
import logging

from titanic_mlops.cli.context import deployment, print_json

logger = logging.getLogger("titanic_mlops")


def _migrate_log(args: argparse.Namespace) -> int:
    from titanic_mlops.stores import migration

    counts = migration.copy_log(args.source, args.target)
    logger.info(
        "migrate-log: %d predictions, %d feedback rows copied", counts["predictions"], counts["feedback"]
    )
    print_json(counts)
    return 0


def _migrate_monitoring(args: argparse.Namespace) -> int:
    from titanic_mlops.stores import factory, migration

    name = deployment().model_name
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate-log",
        help="Copy the prediction log to another store (ids kept).",
        description="Copy the prediction log to another store (ids kept).",
    )
    p.set_defaults(handler=_migrate_log)
    p.add_argument("--from", dest="source", required=True, help="sqlite:///... or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty log: sqlite:///... or postgresql://..."
    )

    p = sub.add_parser(
        "migrate-monitoring",
        help="Copy the monitoring state to another store (cursor kept).",
        description="Copy the monitoring state to another store (cursor kept).",
    )
    p.set_defaults(handler=_migrate_monitoring)
    p.add_argument("--from", dest="source", required=True, help="file:///dir or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty store: file:///dir or postgresql://..."
    )
