"""The `titanic-mlops` command: the composition root, one subcommand per stage and service.

Every subcommand is a thin shell: parse paths, load params, read inputs, call the core, write
outputs atomically, log one line. Shells (pipelines, serving, monitoring) are imported lazily,
inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from titanic_mlops.errors import TitanicMlopsError

if TYPE_CHECKING:
    from titanic_mlops.params import Params
    from titanic_mlops.prediction import LoadedModel
    from titanic_mlops.registry import Registry
    from titanic_mlops.settings import Settings

logger = logging.getLogger("titanic_mlops")
Handler = Callable[[argparse.Namespace], int]


def _ingest(args: argparse.Namespace) -> int:
    from titanic_mlops import atomic, ingest

    table = ingest.load_training_table(args.raw, args.feedback)
    atomic.write_parquet(args.out, table)
    logger.info("ingest: %d rows (%s) -> %s", len(table), args.raw, args.out)
    return 0


def _validate(args: argparse.Namespace) -> int:
    import pandas as pd

    from titanic_mlops import atomic, validation
    from titanic_mlops.errors import ValidationFailed
    from titanic_mlops.params import load_params

    params = load_params(args.params)
    frame = pd.read_parquet(args.input)
    result = validation.validate_frame(
        frame, params.validate_, params.ingest, labelled=True, docs_dir=args.docs
    )
    atomic.write_json(args.report, result.summary())
    if not result.success:
        args.out.unlink(missing_ok=True)
        raise ValidationFailed(result.failures)
    atomic.write_parquet(args.out, frame)
    logger.info("validate: %d expectations passed -> %s", result.evaluated, args.out)
    return 0


def _features(args: argparse.Namespace) -> int:
    import pandas as pd

    from titanic_mlops import atomic, feature_store, features, ingest
    from titanic_mlops.params import load_params
    from titanic_mlops.settings import Settings

    params = load_params(args.params)
    labelled = pd.read_parquet(args.input)
    unlabelled = ingest.read_raw_csv(args.test, labelled=False)
    passengers = pd.concat([labelled.drop(columns=["Survived", "source"]), unlabelled])
    table = features.build_feature_table(passengers, params.features.event_timestamp)
    atomic.write_parquet(args.out_dir / "passengers.parquet", table)
    atomic.write_parquet(args.out_dir / "tickets.parquet", features.build_ticket_table(table))
    settings = Settings()
    repo = args.repo or settings.feature_repo
    store = feature_store.open_store(repo, settings.state, settings.resolved_feast_config)
    feature_store.apply_and_materialize(store, params.features.event_timestamp)
    logger.info("features: %d passengers -> %s and the online store", len(table), args.out_dir)
    return 0


def _registry() -> Registry:
    from titanic_mlops.registry import Registry
    from titanic_mlops.settings import Settings

    settings = Settings()
    return Registry(settings.resolved_tracking_uri, settings.resolved_artifact_root, settings.model_name)


def _train(args: argparse.Namespace) -> int:
    settings = _settings()
    prefect_ready = _prefect(settings)
    from pipelines.training import flow_for
    from titanic_mlops.params import load_params

    params, registry = load_params(args.params), _registry()
    prefect_ready()
    candidate = flow_for(settings.dask, settings.dask_address)(
        validated=args.input,
        feature_source=args.feature_source,
        validation_report=args.validation_report,
        holdout_out=args.holdout,
        metrics_out=args.metrics,
        plots_dir=args.plots,
        candidate_out=args.candidate,
        repo=args.repo or settings.feature_repo,
        state=settings.state,
        params=params,
        registry=registry,
        feast_config=settings.resolved_feast_config,
        fan_out=settings.dask,
    )
    logger.info("train: version %s (holdout %s)", candidate["version"], candidate["holdout"])
    return 0


def _promote(args: argparse.Namespace) -> int:
    import pandas as pd

    from titanic_mlops import atomic, gate
    from titanic_mlops.params import load_params
    from titanic_mlops.registry import ModelRef
    from titanic_mlops.settings import Settings

    candidate = json.loads(args.candidate.read_text())
    ref = ModelRef(candidate["name"], str(candidate["version"]), candidate["run_id"])
    recent = None
    if args.recent is not None and args.recent.exists():
        recent = pd.read_parquet(args.recent)
    elif args.recent is not None:
        logger.info("promote: no recent window at %s yet; judging on the holdout only", args.recent)
    event = gate.run_gate(
        _registry(),
        ref,
        pd.read_parquet(args.holdout),
        load_params(args.params).promote,
        Settings().history_path,
        trigger=args.trigger,
        recent=recent,
        lock_url=Settings().resolved_lock_url,
    )
    atomic.write_json(args.out, event)
    logger.info("promote: version %s %s", ref.version, event["reason"])
    return 0


def _status(args: argparse.Namespace) -> int:
    from titanic_mlops import monitoring_state, status

    settings = _settings()
    payload = status.collect(
        _registry(),
        settings.history_path,
        lambda: monitoring_state.open_store(settings.resolved_monitoring_url, settings.model_name),
    )
    if args.json:
        print_json(payload)
    else:
        sys.stdout.write(status.render(payload))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from titanic_mlops import atomic, feature_store, ingest, prediction

    settings = _settings()
    registry = _registry()
    model = prediction.load_model(registry, registry.require(args.alias), args.engine)
    store = feature_store.open_store(
        args.repo or settings.feature_repo, settings.state, settings.resolved_feast_config
    )
    if args.chunk_rows or args.dask:
        return _predict_large(args, settings, model, store)
    raw = ingest.read_raw_csv(args.input, labelled=False)
    scored = prediction.score(
        raw, model, lambda tickets: feature_store.online_ticket_group_sizes(store, tickets)
    )
    atomic.write_csv(args.output, prediction.submission(scored))
    logger.info(
        "predict: %d rows with %s v%s (%s) -> %s",
        len(raw),
        model.ref.name,
        model.ref.version,
        args.engine,
        args.output,
    )
    return 0


def _predict_large(args: argparse.Namespace, settings: Settings, model: LoadedModel, store: object) -> int:
    """Files larger than memory: chunk by chunk in this process, or partition by partition on Dask."""
    from titanic_mlops import batch_scoring, feature_store, request_features

    tickets = request_features.TicketSizes(
        lambda names: feature_store.online_ticket_group_sizes(store, names)  # type: ignore[arg-type]
    )
    if args.dask:
        registry = _registry()
        payload = registry.load_onnx(model.ref) if model.engine == "onnx" else model.scorer
        portable = batch_scoring.PortableModel(model.ref, model.engine, payload)
        rows = batch_scoring.score_csv_dask(
            args.input, args.output, portable, tickets, address=settings.dask_address
        )
    else:
        rows = batch_scoring.score_csv(args.input, args.output, model, tickets, args.chunk_rows)
    how = "dask partitions" if args.dask else f"chunks of {args.chunk_rows} rows"
    logger.info(
        "predict: %d rows in %s with %s v%s -> %s", rows, how, model.ref.name, model.ref.version, args.output
    )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from titanic_mlops import ingest, scenarios, simulate

    snapshot = ingest.read_raw_csv(args.snapshot, labelled=True)
    traffic = simulate.draw(snapshot, scenarios.get(args.scenario), args.rows, args.seed)
    result = simulate.send(
        args.url, traffic, args.scenario, batch_size=args.batch_size, label_fraction=args.label_fraction
    )
    logger.info(
        "simulate: %s, %d predicted, %d labelled, %d failed request(s)",
        args.scenario,
        result.predicted,
        result.labelled,
        result.failed_requests,
    )
    print_json(result.summary())
    return 0 if result.failed_requests == 0 else 1


def _monitor(args: argparse.Namespace) -> int:
    settings = _settings()
    prefect_ready = _prefect(settings)
    from monitoring.flow import monitor_flow
    from titanic_mlops.params import load_params

    params = load_params(args.workspace / args.params)
    if params.monitor is None:
        raise TitanicMlopsError(f"{args.params}: no monitor: section")
    registry = _registry()
    prefect_ready()
    result = monitor_flow(
        workspace=args.workspace.resolve(),
        state=settings.state,
        params=params.monitor,
        log_url=settings.resolved_prediction_log_url,
        registry=registry,
        history_path=settings.history_path,
        monitoring_url=settings.resolved_monitoring_url,
    )
    if result["action"] == "retrain" and not args.no_retrain:
        outcome = _retraining(settings, args.workspace, params, "drift")
        result.update({k: outcome[k] for k in ("new_version", "promoted", "reason", "batch")})
    keys = ("drift_detected", "drift_share", "drifted_columns", "action", "reason", "live_accuracy")
    if not args.json:
        for key in (*keys, "new_version", "promoted", "reports"):
            if key in result:
                sys.stdout.write(f"{key:>16}: {result[key]}\n")
    sys.stdout.write(json.dumps(result, sort_keys=True, default=str) + "\n")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    settings = _settings()
    prefect_ready = _prefect(settings)
    from titanic_mlops.params import load_params

    params = load_params(args.workspace / args.params)
    prefect_ready()
    outcome = _retraining(settings, args.workspace, params, args.trigger)
    sys.stdout.write(json.dumps(outcome, sort_keys=True, default=str) + "\n")
    return 0


def _retraining(settings: Settings, workspace: Path, params: Params, trigger: str) -> dict[str, Any]:
    """The retraining flow over this deployment's stores (`retrain`, and `monitor` on drift)."""
    from pipelines.retraining import retrain_flow

    outcome: dict[str, Any] = retrain_flow(
        workspace=workspace.resolve(),
        state=settings.state,
        params=params,
        log_url=settings.resolved_prediction_log_url,
        history_path=settings.history_path,
        monitoring_url=settings.resolved_monitoring_url,
        model_name=settings.model_name,
        trigger=trigger,
    )
    return outcome


def _export(args: argparse.Namespace) -> int:
    from titanic_mlops import atomic

    registry = _registry()
    ref = registry.require(args.alias)
    payload = registry.load_onnx(ref)
    atomic.write_with(args.output, lambda path: path.write_bytes(payload))
    logger.info("export: %s v%s -> %s (%d bytes, onnx)", ref.name, ref.version, args.output, len(payload))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from titanic_mlops import gate

    event = gate.rollback(_registry(), _settings().history_path, reason=args.reason)
    logger.info("rollback: champion %s -> %s", event["champion_before"], event["champion_after"])
    print_json(event)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    logger.info("serve: http://%s:%d (champion of %s)", args.host, args.port, _settings().model_name)
    uvicorn.run(
        "serving.app:create_app", factory=True, host=args.host, port=args.port, workers=1, log_level="info"
    )
    return 0


def _migrate_log(args: argparse.Namespace) -> int:
    from titanic_mlops import log_migration

    counts = log_migration.copy_log(args.source, args.target)
    logger.info(
        "migrate-log: %d predictions, %d feedback rows copied", counts["predictions"], counts["feedback"]
    )
    print_json(counts)
    return 0


def _migrate_monitoring(args: argparse.Namespace) -> int:
    from titanic_mlops import monitoring_state

    name = _settings().model_name
    source = monitoring_state.open_store(args.source, name)
    target = monitoring_state.open_store(args.target, name)
    try:
        copied = monitoring_state.migrate(source, target)
        cursor = target.policy().cursor
    finally:
        source.close()
        target.close()
    logger.info("migrate-monitoring: %d cycles copied, cursor at prediction %d", copied, cursor)
    print_json({"cycles": copied, "cursor": cursor})
    return 0


def _prefect(settings: Settings) -> Callable[[], None]:
    """Prefect's home, and its temporary server started now: call the result before a flow."""
    _prefect_home(settings)
    from pipelines.prefect_server import early_server

    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    return early_server(Path(os.environ["PREFECT_HOME"]).expanduser(), timeout)


def _prefect_home(settings: Settings) -> None:
    """Prefect keeps its database under the state directory unless told otherwise."""
    os.environ.setdefault("PREFECT_HOME", str(settings.state / "prefect"))
    # Prefect creates only the last level; with every store remote nothing else makes the state dir.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    # A cold temporary server migrates its database first; the 20 s default is too short on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def _settings() -> Settings:
    from titanic_mlops.settings import Settings

    return Settings()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="titanic-mlops", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("ingest", _ingest, "Read the raw snapshot and feedback batches into one typed table.")
    p.add_argument("--raw", type=Path, required=True, help="the upstream train.csv")
    p.add_argument("--feedback", type=Path, required=True, help="folder of feedback batches")
    p.add_argument("--out", type=Path, required=True, help="typed table (parquet)")

    p = command("validate", _validate, "Run the data contract; stop the pipeline on a failure.")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="the validated table (parquet)")
    p.add_argument("--report", type=Path, required=True, help="validation result (JSON)")
    p.add_argument("--docs", type=Path, required=True, help="folder for the HTML data docs")
    p.add_argument("--params", type=Path, default=Path("params.yaml"))

    p = command("features", _features, "Compute features, write the Feast source, fill the store.")
    p.add_argument("--input", type=Path, required=True, help="the validated table")
    p.add_argument("--test", type=Path, required=True, help="the unlabelled test.csv")
    p.add_argument("--out-dir", type=Path, required=True, help="folder of the offline sources")
    p.add_argument("--repo", type=Path, default=None, help="the Feast repository")
    p.add_argument("--params", type=Path, default=Path("params.yaml"))

    p = command("train", _train, "Run the training flow and register a new model version.")
    p.add_argument("--input", type=Path, required=True, help="the validated table")
    p.add_argument("--feature-source", type=Path, required=True, help="Feast passenger source")
    p.add_argument("--validation-report", type=Path, required=True)
    p.add_argument("--holdout", type=Path, required=True, help="frozen holdout (parquet)")
    p.add_argument("--metrics", type=Path, required=True, help="DVC metrics file")
    p.add_argument("--plots", type=Path, required=True, help="DVC plots folder")
    p.add_argument("--candidate", type=Path, required=True, help="the new version (JSON)")
    p.add_argument("--repo", type=Path, default=None, help="the Feast repository")
    p.add_argument("--params", type=Path, default=Path("params.yaml"))

    p = command("promote", _promote, "The gate: challenger vs champion; move the alias or not.")
    p.add_argument("--candidate", type=Path, required=True)
    p.add_argument("--holdout", type=Path, required=True)
    p.add_argument(
        "--recent",
        type=Path,
        default=None,
        help="held-back recent labelled rows (parquet); a path not written yet means none",
    )
    p.add_argument("--out", type=Path, required=True, help="the decision (JSON)")
    p.add_argument(
        "--trigger",
        default=os.environ.get("TITANIC_MLOPS_TRIGGER", "pipeline"),
        help="what started this run (default: $TITANIC_MLOPS_TRIGGER or 'pipeline')",
    )
    p.add_argument("--params", type=Path, default=Path("params.yaml"))

    p = command("status", _status, "Champion, challenger, their metrics, lineage and history.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")

    p = command("predict", _predict, "Score a Kaggle-format CSV into a PassengerId,Survived file.")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--engine", choices=["onnx", "sklearn"], default="onnx")
    p.add_argument("--alias", default="champion")
    p.add_argument("--repo", type=Path, default=None, help="the Feast repository")
    p.add_argument("--chunk-rows", type=int, default=None, help="stream the file N rows at a time")
    p.add_argument("--dask", action="store_true", help="score Dask partitions ($TITANIC_MLOPS_DASK_ADDRESS)")

    p = command("simulate", _simulate, "Send deterministic production traffic, then its ground truth.")
    from titanic_mlops import scenarios

    p.add_argument("--scenario", required=True, choices=scenarios.names(), help="the world to send")
    p.add_argument("--rows", type=int, default=200, help="passengers to send")
    p.add_argument("--seed", type=int, default=0, help="same seed, same traffic (and PassengerId block)")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the running API")
    p.add_argument("--batch-size", type=int, default=50, help="passengers per request")
    p.add_argument("--label-fraction", type=float, default=1.0, help="share of rows whose label is sent")
    p.add_argument(
        "--snapshot", type=Path, default=Path("data/external/titanic/train.csv"), help="rows to draw from"
    )

    p = command("monitor", _monitor, "One monitoring cycle; retrains through the gate if the policy says so.")
    p.add_argument("--json", action="store_true", help="only the result, as one JSON line")
    p.add_argument("--workspace", type=Path, default=Path(), help="the DVC workspace (dvc.yaml)")
    p.add_argument("--params", type=Path, default=Path("params.yaml"), help="relative to --workspace")
    p.add_argument("--no-retrain", action="store_true", help="decide only, never start a retraining")

    p = command("retrain", _retrain, "Labelled feedback -> a new batch -> dvc repro -> the gate.")
    p.add_argument("--workspace", type=Path, default=Path(), help="the DVC workspace (dvc.yaml)")
    p.add_argument("--params", type=Path, default=Path("params.yaml"), help="relative to --workspace")
    p.add_argument("--trigger", default="manual", help="recorded in the history")

    p = command("serve", _serve, "Serve the champion over HTTP (FastAPI, one uvicorn worker).")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000)

    p = command("export", _export, "Write a registered model as an ONNX graph for edge devices.")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.add_argument("--output", type=Path, default=Path("artifacts/model.onnx"))
    p.add_argument("--alias", default="champion")

    p = command("migrate-log", _migrate_log, "Copy the prediction log to another store (ids kept).")
    p.add_argument("--from", dest="source", required=True, help="sqlite:///... or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty log: sqlite:///... or postgresql://..."
    )

    p = command(
        "migrate-monitoring", _migrate_monitoring, "Copy the monitoring state to another store (cursor kept)."
    )
    p.add_argument("--from", dest="source", required=True, help="file:///dir or postgresql://...")
    p.add_argument(
        "--to", dest="target", required=True, help="an empty store: file:///dir or postgresql://..."
    )

    p = command("rollback", _rollback, "Move champion back to the previous version.")
    p.add_argument("--reason", default="manual rollback")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("feast", "great_expectations", "alembic", "mlflow", "httpx"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        code: int = args.handler(args)
    except TitanicMlopsError as exc:
        print(f"titanic-mlops {args.command}: error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return code


def print_json(payload: object) -> None:
    """Machine-readable output goes to stdout as one JSON document."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
