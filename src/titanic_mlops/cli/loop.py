"""The closed loop by hand: `simulate` traffic, one `monitor` cycle, a `retrain`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from titanic_mlops.cli.context import chosen_workspace, deployment, prefect, print_json, require
from titanic_mlops.cli.help import Subparsers, command
from titanic_mlops.config import layout
from titanic_mlops.domain.errors import TitanicMlopsError

logger = logging.getLogger("titanic_mlops")


def _simulate(args: argparse.Namespace) -> int:
    from titanic_mlops.adapters import api_client
    from titanic_mlops.domain import scenarios, traffic
    from titanic_mlops.services.ingest import read_raw_csv

    if args.rows < 1 or args.batch_size < 1 or not 0 <= args.label_fraction <= 1:
        raise TitanicMlopsError("--rows and --batch-size must be at least 1, --label-fraction within [0, 1]")
    snapshot = read_raw_csv(args.snapshot, labelled=True)
    drawn = traffic.draw(snapshot, scenarios.get(args.scenario), args.rows, args.seed)
    result = api_client.send(
        args.url, drawn, args.scenario, batch_size=args.batch_size, label_fraction=args.label_fraction
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


def _require_workspace(args: argparse.Namespace, outputs: bool) -> None:
    """The workspace and, for a cycle, the pipeline's outputs, checked before Prefect starts."""
    args.workspace = chosen_workspace(args.workspace)
    ws = layout.WorkspaceLayout(args.workspace)
    needed = [ws.dvc_yaml, args.workspace / args.params]
    if outputs:
        needed += [ws.validated, ws.passengers]
    require(needed, "run `dvc repro` (or `make demo`) in the workspace first, or pass --workspace")


def _monitor(args: argparse.Namespace) -> int:
    _require_workspace(args, outputs=True)
    current = deployment()
    prefect_ready = prefect(current.settings)
    from monitoring.flow import monitor_flow
    from titanic_mlops.config.params_yaml import load_params

    params = load_params(args.workspace / args.params)
    if params.monitor is None:
        raise TitanicMlopsError(f"{args.params}: no monitor: section")
    prefect_ready()
    cycle, outcome = monitor_flow(
        workspace=args.workspace.resolve(), params=params, retrain=not args.no_retrain
    )
    result = cycle.model_dump(mode="json")
    if outcome is not None:
        result.update(outcome.model_dump(include={"new_version", "promoted", "reason", "batch"}))
    keys = ("drift_detected", "drift_share", "drifted_columns", "action", "reason", "live_accuracy")
    if not args.json:
        for key in (*keys, "new_version", "promoted", "reports"):
            if key in result:
                sys.stdout.write(f"{key:>16}: {result[key]}\n")
    sys.stdout.write(json.dumps(result, sort_keys=True, default=str) + "\n")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    _require_workspace(args, outputs=False)
    current = deployment()
    prefect_ready = prefect(current.settings)
    from pipelines.retraining import retrain_flow
    from titanic_mlops.config.params_yaml import load_params

    params = load_params(args.workspace / args.params)
    prefect_ready()
    outcome = retrain_flow(workspace=args.workspace.resolve(), params=params, trigger=args.trigger)
    sys.stdout.write(json.dumps(outcome.model_dump(mode="json"), sort_keys=True) + "\n")
    return 0


_WORKSPACE_HELP = (
    "the DVC workspace (holds dvc.yaml; default: the current directory, or after `make demo` "
    "the demo's workspace while the current directory has no pipeline outputs)"
)


def register(sub: Subparsers) -> None:
    from titanic_mlops.domain import scenarios

    p = command(
        sub,
        "simulate",
        _simulate,
        "Send deterministic production traffic, then its ground truth, to a running API.",
        [
            "titanic-mlops simulate --scenario none --rows 200",
            "titanic-mlops simulate --scenario covariate --url http://127.0.0.1:8000 --label-fraction 0.5",
        ],
    )
    p.add_argument("--scenario", required=True, choices=scenarios.names(), help="the world to send")
    p.add_argument("--rows", type=int, default=200, help="passengers to send")
    p.add_argument("--seed", type=int, default=0, help="same seed, same traffic (and PassengerId block)")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the running API")
    p.add_argument("--batch-size", type=int, default=50, help="passengers per request")
    p.add_argument("--label-fraction", type=float, default=1.0, help="share of rows whose label is sent")
    p.add_argument("--snapshot", type=Path, default=layout.RAW_TRAIN, help="rows to draw from")

    p = command(
        sub,
        "monitor",
        _monitor,
        "One monitoring cycle; retrains through the gate if the policy says so.",
        ["titanic-mlops monitor", "titanic-mlops monitor --no-retrain --json"],
        (("TITANIC_MLOPS_MONITORING_URL", "the monitoring state (default: files in the state)"),),
    )
    p.add_argument("--json", action="store_true", help="only the result, as one JSON line")
    p.add_argument("--workspace", type=Path, default=None, help=_WORKSPACE_HELP)
    p.add_argument("--params", type=Path, default=layout.PARAMS, help="relative to --workspace")
    p.add_argument("--no-retrain", action="store_true", help="decide only, never start a retraining")

    p = command(
        sub,
        "retrain",
        _retrain,
        "Labelled feedback -> a new batch -> dvc repro -> the gate.",
        ["titanic-mlops retrain", "titanic-mlops retrain --trigger drift"],
    )
    p.add_argument("--workspace", type=Path, default=None, help=_WORKSPACE_HELP)
    p.add_argument("--params", type=Path, default=layout.PARAMS, help="relative to --workspace")
    p.add_argument("--trigger", default="manual", help="recorded in the history")
