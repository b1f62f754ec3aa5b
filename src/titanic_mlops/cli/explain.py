"""`titanic-mlops explain`: SHAP contributions for a batch of passengers, as a CSV."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from titanic_mlops.cli.context import deployment
from titanic_mlops.cli.help import command
from titanic_mlops.domain.versions import CHAMPION

logger = logging.getLogger("titanic_mlops.cli")


def _explain(args: argparse.Namespace) -> int:
    from titanic_mlops.services import explain_batch

    current = deployment()
    registry = current.existing_registry()
    ref = registry.require(args.alias)
    sizes = current.ticket_sizes(current.feature_store(args.repo))
    rows = explain_batch.explain_file(args.input, args.output, registry, ref, sizes)
    logger.info("explain: %d passengers with %s v%s -> %s", rows, ref.name, ref.version, args.output)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = (
        "Explain each passenger's prediction: base value and one SHAP value per model input. "
        "The base value plus the contributions give the model's output in the space they add up "
        "in (logit or probability)."
    )
    p = command(
        sub,
        "explain",
        _explain,
        help_text,
        ("titanic-mlops explain --input data/external/titanic/test.csv --output explanations.csv",),
    )
    p.add_argument("--input", type=Path, required=True, help="Kaggle-format passengers (CSV)")
    p.add_argument("--output", type=Path, required=True, help="the explanations to write (CSV)")
    p.add_argument("--alias", default=CHAMPION, help="the alias of the version to explain")
    p.add_argument(
        "--repo", type=Path, default=None, help="the Feast repository (default: the workspace's feature_repo)"
    )
