"""The registered model: `status`, `predict`, `export`, `rollback`, `serve`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from titanic_mlops.cli.context import deployment, print_json
from titanic_mlops.services.deployment import Deployment

logger = logging.getLogger("titanic_mlops")


def _status(args: argparse.Namespace) -> int:
    from titanic_mlops.services import status

    current = deployment()
    payload = status.collect(current.registry(), current.history_path, current.monitoring_store)
    if args.json:
        print_json(payload)
    else:
        sys.stdout.write(status.render(payload))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from titanic_mlops.services import predict, scoring

    current = deployment()
    registry = current.registry()
    model = scoring.load_model(registry, registry.require(args.alias), args.engine)
    sizes = current.ticket_sizes(current.feature_store(args.repo))
    if args.dask:
        payload = registry.load_onnx(model.ref) if model.engine == "onnx" else model.scorer.pipeline  # type: ignore[attr-defined]
        portable = predict.PortableModel(model.ref, model.engine, payload)
        rows = predict.score_csv_dask(
            args.input, args.output, portable, sizes, address=current.settings.dask_address
        )
        how = "dask partitions"
    elif args.chunk_rows:
        rows = predict.score_csv(args.input, args.output, model, sizes, args.chunk_rows)
        how = f"chunks of {args.chunk_rows} rows"
    else:
        rows = predict.score_file(args.input, args.output, model, sizes)
        how = "one frame"
    logger.info(
        "predict: %d rows in %s with %s v%s (%s) -> %s",
        rows,
        how,
        model.ref.name,
        model.ref.version,
        model.engine,
        args.output,
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from titanic_mlops import atomic

    registry = deployment().registry()
    ref = registry.require(args.alias)
    payload = registry.load_onnx(ref)
    atomic.write_with(args.output, lambda path: path.write_bytes(payload))
    logger.info("export: %s v%s -> %s (%d bytes, onnx)", ref.name, ref.version, args.output, len(payload))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from titanic_mlops.services import promote

    current: Deployment = deployment()
    event = promote.rollback(current.registry(), current.history_path, reason=args.reason)
    logger.info("rollback: champion %s -> %s", event.champion_before, event.champion_after)
    print_json(event.model_dump(mode="json"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from serving.app import run

    logger.info("serve: http://%s:%d (champion of %s)", args.host, args.port, deployment().model_name)
    run(args.host, args.port)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def command(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("status", _status, "Champion, challenger, their metrics, lineage and history.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")

    p = command("predict", _predict, "Score a Kaggle-format CSV into a PassengerId,Survived file.")
    p.add_argument("--input", type=Path, required=True, help="Kaggle-format passengers (CSV)")
    p.add_argument("--output", type=Path, required=True, help="the submission to write (CSV)")
    p.add_argument("--engine", choices=["onnx", "sklearn"], default="onnx", help="default: onnx")
    p.add_argument(
        "--alias", default="champion", help="the registered alias to score with (default: champion)"
    )
    p.add_argument("--repo", type=Path, default=None, help="the Feast repository")
    p.add_argument("--chunk-rows", type=int, default=None, help="stream the file N rows at a time")
    p.add_argument("--dask", action="store_true", help="score Dask partitions ($TITANIC_MLOPS_DASK_ADDRESS)")

    p = command("serve", _serve, "Serve the champion over HTTP (FastAPI, one uvicorn worker).")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="default: 8000")

    p = command("export", _export, "Write a registered model as an ONNX graph for edge devices.")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.add_argument("--output", type=Path, default=Path("artifacts/model.onnx"))
    p.add_argument("--alias", default="champion")

    p = command("rollback", _rollback, "Move champion back to the previous version.")
    p.add_argument("--reason", default="manual rollback")
