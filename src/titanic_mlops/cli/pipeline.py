"""The pipeline stages dvc.yaml runs: `ingest`, `validate`, `features`, `train`, `promote`.

Each handler parses paths, loads params, calls the stage's service, logs one line.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

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
        registry=current.registry(),
        store=current.feature_store(args.repo),
        fan_out=settings.dask,
    )
    logger.info("train: version %s (holdout %s)", candidate.version, candidate.holdout.model_dump())
    return 0


def _promote(args: argparse.Namespace) -> int:
    import pandas as pd

    from titanic_mlops import atomic
    from titanic_mlops.config.params_yaml import load_params
    from titanic_mlops.services import experiment, promote
    from titanic_mlops.services.train import read_candidate

    require([args.candidate, args.holdout, args.params], "run `dvc repro` first")
    current = deployment()
    candidate = read_candidate(args.candidate)
    if _judged_already(args.out, candidate.name, candidate.version):
        logger.info("promote: version %s was judged already (%s); nothing to do", candidate.version, args.out)
        return 0
    recent = None
    if args.recent is not None and args.recent.exists():
        recent = pd.read_parquet(args.recent)
    elif args.recent is not None:
        logger.info("promote: no recent window at %s yet; judging on the holdout only", args.recent)
    params = load_params(args.params)
    staging = experiment.Staging(params.experiment, experiment.ExperimentPaths(current.state.root))
    event = promote.run_gate(
        current.registry(),
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


def register(sub: Subparsers) -> None:
    def path(p: argparse.ArgumentParser, flag: str, default: Path, help_text: str) -> None:
        p.add_argument(flag, type=Path, default=default, help=help_text)

    def repo(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--repo",
            type=Path,
            default=None,
            help="the Feast repository (default: $TITANIC_MLOPS_FEATURE_REPO)",
        )

    p = command(
        sub,
        "ingest",
        _ingest,
        "Read the raw snapshot and feedback batches into one typed table.",
        ["titanic-mlops ingest", "titanic-mlops ingest --raw other/train.csv --out /tmp/interim.parquet"],
    )
    path(p, "--raw", _W.raw_train, "the upstream train.csv")
    path(p, "--feedback", _W.feedback_dir, "folder of feedback batches")
    path(p, "--out", _W.interim, "typed table (parquet)")

    p = command(
        sub,
        "validate",
        _validate,
        "Run the data contract; stop the pipeline on a failure.",
        ["titanic-mlops validate", "titanic-mlops validate --input /tmp/interim.parquet"],
    )
    path(p, "--input", _W.interim, "the ingested table")
    path(p, "--out", _W.validated, "the validated table (parquet)")
    path(p, "--report", _W.validation_report, "validation result (JSON)")
    path(p, "--docs", _W.validation_docs, "folder for the HTML validation report")
    path(p, "--params", _W.params, "parameters")

    p = command(
        sub,
        "features",
        _features,
        "Compute features, write the Feast source, fill the store.",
        ["titanic-mlops features"],
        _REPO_ENV,
    )
    path(p, "--input", _W.validated, "the validated table")
    path(p, "--test", _W.raw_test, "the unlabelled test.csv")
    path(p, "--out-dir", _W.features_dir, "folder of the offline sources")
    repo(p)
    path(p, "--params", _W.params, "parameters")

    _register_model_stages(sub, path, repo)


def _register_model_stages(sub: Subparsers, path: Any, repo: Any) -> None:
    p = command(
        sub,
        "train",
        _train,
        "Run the training flow and register a new model version.",
        ["titanic-mlops train", "TITANIC_MLOPS_DASK=1 titanic-mlops train"],
        (
            *_REPO_ENV,
            ("TITANIC_MLOPS_DASK", "1: fan the candidate fits out on Dask"),
            ("TITANIC_MLOPS_TRACKING_URI", "the MLflow tracking server (default: sqlite in the state)"),
        ),
    )
    path(p, "--input", _W.validated, "the validated table")
    path(p, "--feature-source", _W.passengers, "Feast passenger source")
    path(p, "--validation-report", _W.validation_report, "the validate stage's result")
    path(p, "--holdout", _W.holdout, "frozen holdout (parquet)")
    path(p, "--metrics", _W.metrics, "DVC metrics file")
    path(p, "--plots", _W.plots, "DVC plots folder")
    path(p, "--candidate", _W.candidate, "the new version (JSON)")
    repo(p)
    path(p, "--params", _W.params, "parameters")

    p = command(
        sub,
        "promote",
        _promote,
        "The gate: challenger vs champion; move the alias or not.",
        ["titanic-mlops promote", "titanic-mlops promote --trigger manual"],
        (("TITANIC_MLOPS_TRIGGER", "what started the run, when --trigger is not given"),),
    )
    path(p, "--candidate", _W.candidate, "the version train registered (JSON)")
    path(p, "--holdout", _W.holdout, "the frozen holdout")
    path(
        p,
        "--recent",
        _W.recent,
        "held-back recent labelled rows (parquet); a path not written yet means none",
    )
    path(p, "--out", _W.promotion, "the decision (JSON)")
    p.add_argument(
        "--trigger",
        default=None,
        help="what started this run (default: $TITANIC_MLOPS_TRIGGER or 'pipeline')",
    )
    path(p, "--params", _W.params, "parameters")
