"""The pipeline stages dvc.yaml runs: `ingest`, `validate`, `features`, `train`, `promote`.

Each handler parses paths, loads params, calls the stage's service, logs one line.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from titanic_mlops.cli.context import deployment, prefect, require
from titanic_mlops.cli.help import Subparsers, command
from titanic_mlops.config import layout

logger = logging.getLogger("titanic_mlops")
_W = layout.WorkspaceLayout()


def _ingest(args: argparse.Namespace) -> int:
    from titanic_mlops import atomic
    from titanic_mlops.services.ingest import load_training_table

    table = load_training_table(args.raw, args.feedback)
    atomic.write_parquet(args.out, table)
    logger.info("ingest: %d rows (%s) -> %s", len(table), args.raw, args.out)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from titanic_mlops.config.params_yaml import load_params
    from titanic_mlops.services import validate

    require([args.params], "run `git checkout params.yaml` to restore it")
    report = validate.run(args.input, args.out, args.report, args.docs, load_params(args.params))
    logger.info("validate: %d expectations passed -> %s", report.evaluated_expectations, args.out)
    return 0


def _features(args: argparse.Namespace) -> int:
    from titanic_mlops.config.params_yaml import load_params
    from titanic_mlops.services import features

    require([args.input, args.test, args.params], "run `titanic-mlops validate` first")
    params = load_params(args.params)
    store = deployment().feature_store(args.repo)
    table = features.run(args.input, args.test, args.out_dir, store, params)
    logger.info("features: %d passengers -> %s and the online store", len(table), args.out_dir)
    return 0


def _train(args: argparse.Namespace) -> int:
    require([args.input, args.feature_source, args.validation_report, args.params], "run `dvc repro` first")
    current = deployment()
    prefect_ready = prefect(current.settings)
    from pipelines.training import flow_for
    from titanic_mlops.config.params_yaml import load_params

    params = load_params(args.params)
    # Opened while the Prefect server starts: Feast's import and the MLflow database (created
    # and migrated on a first run) use the other core instead of waiting for it.
    registry = current.registry()
    registry.connect()
    store = current.feature_store(args.repo)
    prefect_ready()
    settings = current.settings
    candidate = flow_for(settings.dask, settings.dask_address)(
        validated=args.input,
        feature_source=args.feature_source,
        validation_report=args.validation_report,
        holdout_out=args.holdout,
        metrics_out=args.metrics,
        plots_dir=args.plots,
        candidate_out=args.candidate,
        params=params,
        registry=registry,
        store=store,
        fan_out=settings.dask,
    )
    logger.info("train: version %s (holdout %s)", candidate.version, candidate.holdout.model_dump())
    return 0


def _promote(args: argparse.Namespace) -> int:
    from titanic_mlops.domain.stage_outputs import Candidate

    require([args.candidate, args.holdout, args.params], "run `dvc repro` first")
    candidate = Candidate.model_validate_json(args.candidate.read_text())
    # Every `dvc repro` runs this stage: the common case (judged already) imports nothing heavy.
    if _judged_already(args.out, candidate.name, candidate.version):
        logger.info("promote: version %s was judged already (%s); nothing to do", candidate.version, args.out)
        return 0
    import pandas as pd

    from titanic_mlops import atomic
    from titanic_mlops.config.params_yaml import load_params
    from titanic_mlops.services import experiment, promote

    current = deployment()
    registry = current.registry()
    recent = None
    if args.recent is not None and args.recent.exists():
        recent = pd.read_parquet(args.recent)
    elif args.recent is not None:
        logger.info("promote: no recent window at %s yet; judging on the holdout only", args.recent)
    params = load_params(args.params)
    staging = experiment.Staging(params.experiment, current.state)
    event = promote.run_gate(
        registry,
        candidate.ref,
        pd.read_parquet(args.holdout),
        params.promote,
        current.history_path,
        trigger=args.trigger or current.settings.trigger,
        lock=current.promotion_lock(),
        recent=recent,
        staging=staging,
    )
    atomic.write_json(args.out, event.model_dump(mode="json"))
    current.save_registry_view(registry)
    logger.info("promote: version %s %s", candidate.version, event.reason)
    return 0


def _judged_already(out: Path, name: str, version: str) -> bool:
    """Has the gate already decided on this version? (The stage always runs: see dvc.yaml.)"""
    from titanic_mlops.domain.records import PromotionEvent

    if not out.exists():
        return False
    try:
        event = PromotionEvent.model_validate_json(out.read_text(encoding="utf-8"))
    except ValueError:
        return False  # unreadable: judge again, which rewrites it
    return event.model_name == name and event.challenger_version == version


_REPO_ENV = (("TITANIC_MLOPS_FEATURE_REPO", "the Feast repository (default: feature_repo)"),)


class _Stage(NamedTuple):
    """One stage's command: its paths (flag, default, help), then `--repo`, more options, `--params`."""

    name: str
    handler: Any
    summary: str
    examples: tuple[str, ...]
    paths: tuple[tuple[str, Path, str], ...]
    env: tuple[tuple[str, str], ...] = ()
    repo: bool = False
    params: bool = True
    more_options: Callable[[argparse.ArgumentParser], None] | None = None


def _trigger(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trigger",
        default=None,
        help="what started this run (default: $TITANIC_MLOPS_TRIGGER or 'pipeline')",
    )


_STAGES = (
    _Stage(
        "ingest",
        _ingest,
        "Read the raw snapshot and feedback batches into one typed table.",
        ("titanic-mlops ingest", "titanic-mlops ingest --raw other/train.csv --out /tmp/interim.parquet"),
        (
            ("--raw", _W.raw_train, "the upstream train.csv"),
            ("--feedback", _W.feedback_dir, "folder of feedback batches"),
            ("--out", _W.interim, "typed table (parquet)"),
        ),
        params=False,
    ),
    _Stage(
        "validate",
        _validate,
        "Run the data contract; stop the pipeline on a failure.",
        ("titanic-mlops validate", "titanic-mlops validate --input /tmp/interim.parquet"),
        (
            ("--input", _W.interim, "the ingested table"),
            ("--out", _W.validated, "the validated table (parquet)"),
            ("--report", _W.validation_report, "validation result (JSON)"),
            ("--docs", _W.validation_docs, "folder for the HTML validation report"),
        ),
    ),
    _Stage(
        "features",
        _features,
        "Compute features, write the Feast source, fill the store.",
        ("titanic-mlops features",),
        (
            ("--input", _W.validated, "the validated table"),
            ("--test", _W.raw_test, "the unlabelled test.csv"),
            ("--out-dir", _W.features_dir, "folder of the offline sources"),
        ),
        _REPO_ENV,
        repo=True,
    ),
    _Stage(
        "train",
        _train,
        "Run the training flow and register a new model version.",
        ("titanic-mlops train", "TITANIC_MLOPS_DASK=1 titanic-mlops train"),
        (
            ("--input", _W.validated, "the validated table"),
            ("--feature-source", _W.passengers, "Feast passenger source"),
            ("--validation-report", _W.validation_report, "the validate stage's result"),
            ("--holdout", _W.holdout, "frozen holdout (parquet)"),
            ("--metrics", _W.metrics, "DVC metrics file"),
            ("--plots", _W.plots, "DVC plots folder"),
            ("--candidate", _W.candidate, "the new version (JSON)"),
        ),
        (
            *_REPO_ENV,
            ("TITANIC_MLOPS_DASK", "1: fan the candidate fits out on Dask"),
            ("TITANIC_MLOPS_TRACKING_URI", "the MLflow tracking server (default: sqlite in the state)"),
        ),
        repo=True,
    ),
    _Stage(
        "promote",
        _promote,
        "The gate: challenger vs champion; move the alias or not.",
        ("titanic-mlops promote", "titanic-mlops promote --trigger manual"),
        (
            ("--candidate", _W.candidate, "the version train registered (JSON)"),
            ("--holdout", _W.holdout, "the frozen holdout"),
            (
                "--recent",
                _W.recent,
                "held-back recent labelled rows (parquet); a path not written yet means none",
            ),
            ("--out", _W.promotion, "the decision (JSON)"),
        ),
        (("TITANIC_MLOPS_TRIGGER", "what started the run, when --trigger is not given"),),
        more_options=_trigger,
    ),
)


def register(sub: Subparsers) -> None:
    for stage in _STAGES:
        p = command(sub, stage.name, stage.handler, stage.summary, stage.examples, stage.env)
        for flag, default, help_text in stage.paths:
            p.add_argument(flag, type=Path, default=default, help=help_text)
        if stage.repo:
            p.add_argument(
                "--repo",
                type=Path,
                default=None,
                help="the Feast repository (default: $TITANIC_MLOPS_FEATURE_REPO)",
            )
        if stage.more_options is not None:
            stage.more_options(p)
        if stage.params:
            p.add_argument("--params", type=Path, default=_W.params, help="parameters")
