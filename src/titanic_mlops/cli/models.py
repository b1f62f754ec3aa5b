"""The registered model: `status`, `predict`, `export`, `rollback`, `serve`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from titanic_mlops.cli.context import deployment, print_json
from titanic_mlops.cli.help import Subparsers, command

logger = logging.getLogger("titanic_mlops")


def _status(args: argparse.Namespace) -> int:
    from titanic_mlops.services import status

    current = deployment()
    missing = current.missing_tracking_store()
    s = current.settings
    source = status.RegistrySource(s.resolved_tracking_uri, s.model_name, current.registry_versions)
    registry = None if missing else source
    payload = status.collect(registry, current.history_path, current.monitoring_store, missing)
    payload["loop"] = _loop(current.settings.state_layout.loop_server)
    if args.json:
        print_json(payload)
    else:
        sys.stdout.write(status.render(payload))
    return 0


def _loop(pointer: Path) -> dict[str, Any]:
    """The self-driving loop as its Prefect server sees it, or why there is none to ask.

    The server is PREFECT_API_URL, else the one a running `titanic-mlops worker` named in its
    pointer file; with neither, the loop closes only when `monitor` runs (by hand or in CI).
    """
    url = os.environ.get("PREFECT_API_URL") or (pointer.read_text().strip() if pointer.exists() else "")
    if not url:
        why = "no worker: `make up` starts one; `titanic-mlops monitor` runs one cycle"
        return {"running": False, "reason": why}
    try:
        from pipelines.worker import loop_status

        return {"running": True, "prefect_api_url": url, **loop_status(url)}
    except Exception as exc:  # a status report says what it could not read
        return {"running": False, "prefect_api_url": url, "unavailable": f"{type(exc).__name__}: {exc}"}


def check_input(path: Path, chunk_rows: int | None) -> int:
    """The passenger contract on the whole file, before any model loads; returns the row count.

    The same contract as the API (domain/schema.py); read in chunks, so a file larger than
    memory is checked in bounded memory too.
    """
    from titanic_mlops.domain import schema
    from titanic_mlops.domain.errors import RawDataError
    from titanic_mlops.services.ingest import iter_text_chunks

    if chunk_rows is not None and chunk_rows < 1:
        raise RawDataError(f"--chunk-rows must be at least 1, not {chunk_rows}")
    rows, shown, total = 0, [], 0
    for chunk in iter_text_chunks(path, chunk_rows or 100_000):
        found = schema.batch_problems(chunk, first_row=rows + 1)
        shown += list(found.shown)
        total += found.total
        rows += len(chunk)
        if found.shown and found.shown[0].startswith("missing column"):
            break
    if total:
        problems = schema.BatchProblems(tuple(shown[: schema.SHOWN]), total)
        raise RawDataError(f"{path}: nothing scored, {total} problem(s): {problems.line()}")
    return rows


def _predict(args: argparse.Namespace) -> int:
    from titanic_mlops.services import predict, scoring

    check_input(args.input, args.chunk_rows)
    current = deployment()
    registry = current.existing_registry()
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

    registry = deployment().existing_registry()
    ref = registry.require(args.alias)
    payload = registry.load_onnx(ref)
    atomic.write_with(args.output, lambda path: path.write_bytes(payload))
    logger.info("export: %s v%s -> %s (%d bytes, onnx)", ref.name, ref.version, args.output, len(payload))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from titanic_mlops.services import promote

    current = deployment()
    registry = current.existing_registry()
    event = promote.rollback(registry, current.history_path, reason=args.reason)
    current.save_registry_view(registry)
    logger.info("rollback: champion %s -> %s", event.champion_before, event.champion_after)
    print_json(event.model_dump(mode="json"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from serving.app import run

    logger.info("serve: http://%s:%d (champion of %s)", args.host, args.port, deployment().model_name)
    run(args.host, args.port)
    return 0


_ALIASES = "champion or challenger"


def register(sub: Subparsers) -> None:
    p = command(
        sub,
        "status",
        _status,
        "Champion, challenger, their metrics, lineage and history.",
        ["titanic-mlops status", "titanic-mlops status --json | jq .champion.lineage"],
        (("TITANIC_MLOPS_TRACKING_URI", "the MLflow tracking server (default: sqlite in the state)"),),
    )
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")

    p = command(
        sub,
        "predict",
        _predict,
        "Score a Kaggle-format CSV into a PassengerId,Survived file. The input is checked against the "
        "API's passenger contract first (columns, types, allowed values, bounds); a file with any "
        "problem is refused whole, naming the rows and fields, before the model loads.",
        [
            "titanic-mlops predict --input data/external/titanic/test.csv --output submission.csv",
            "titanic-mlops predict --input big.csv --output out.csv --chunk-rows 50000",
            "titanic-mlops predict --input test.csv --output out.csv --engine sklearn --alias challenger",
        ],
        (
            ("TITANIC_MLOPS_FEATURE_REPO", "the Feast repository (ticket group sizes)"),
            ("TITANIC_MLOPS_DASK_ADDRESS", "the Dask scheduler for --dask (default: a local pool)"),
        ),
    )
    p.add_argument(
        "--input", type=Path, required=True, help="Kaggle-format passengers (CSV, UTF-8, with header)"
    )
    p.add_argument("--output", type=Path, required=True, help="the submission to write (CSV)")
    p.add_argument("--engine", choices=["onnx", "sklearn"], default="onnx", help="the scoring engine")
    p.add_argument("--alias", default="champion", help=f"the registered alias to score with: {_ALIASES}")
    p.add_argument(
        "--repo", type=Path, default=None, help="the Feast repository (default: $TITANIC_MLOPS_FEATURE_REPO)"
    )
    p.add_argument(
        "--chunk-rows", type=int, default=None, help="stream the file N rows at a time (default: all at once)"
    )
    p.add_argument("--dask", action="store_true", help="score Dask partitions ($TITANIC_MLOPS_DASK_ADDRESS)")

    _register_model_commands(sub)


def _register_model_commands(sub: Subparsers) -> None:
    p = command(
        sub,
        "serve",
        _serve,
        "Serve the champion over HTTP (FastAPI, one uvicorn worker); docs at /docs.",
        ["titanic-mlops serve", "titanic-mlops serve --host 0.0.0.0 --port 8080"],
        (
            ("TITANIC_MLOPS_ADMIN_TOKEN", "enables the admin endpoints (reload)"),
            ("TITANIC_MLOPS_SERVING_ENGINE", "onnx or sklearn (default: onnx)"),
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="TCP port")

    p = command(
        sub,
        "export",
        _export,
        "Write a registered model as an ONNX graph for edge devices. The graph takes the 15 "
        "engineered model inputs (docs/pipeline.md, section: The ONNX graph's inputs), not Kaggle "
        "columns: compute "
        "them with titanic_mlops.domain.features.model_inputs.",
        [
            "titanic-mlops export --output model.onnx",
            "titanic-mlops export --alias challenger --output c.onnx",
        ],
    )
    p.add_argument("--format", choices=["onnx"], default="onnx", help="the export format")
    p.add_argument("--output", type=Path, default=Path("artifacts/model.onnx"), help="the file to write")
    p.add_argument("--alias", default="champion", help=f"the registered alias to export: {_ALIASES}")

    p = command(
        sub,
        "rollback",
        _rollback,
        "Move champion back to the previous version.",
        ["titanic-mlops rollback", "titanic-mlops rollback --reason 'bad live accuracy'"],
    )
    p.add_argument("--reason", default="manual rollback", help="recorded in the history")
