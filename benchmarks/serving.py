"""`make bench-serving`: this API against every peer and the floor, for the same champion.

One after the other in one run, one worker each (benchmarks/peers.py lists them): the most
requests/s at 8 and 32 connections (wrk, closed loop), then p50/p99/p99.9 at 25%, 50% and 75% of
this API's maximum (k6 at a fixed rate, evenly spaced: open loop), then a 1,000-passenger batch. The API's
resident memory after warm-up and at its peak under load goes in the table. Prints one table
with ratios to this API and to the floor, and writes it as JSON (--json). The targets (issue 16:
>= 20x mlflow, ahead of MLServer, KServe and BentoML, >= 0.7x the floor, p99 <= 2 ms at 50%) are
reported, never asserted. The API's traffic goes to a throw-away prediction log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import loadgen
import peers

from titanic_mlops import atomic
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain import features
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import ingest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEST_CSV = ROOT / "data" / "external" / "titanic" / "test.csv"
TRAIN_CSV = ROOT / "data" / "external" / "titanic" / "train.csv"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def server(spec: peers.Server, env: dict[str, str], log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until its readiness URL answers 200, and always stop it."""
    name, ready = spec.name, spec.ready
    bin_dir = spec.venv / "bin" if spec.venv else BIN
    env = {**env, **spec.env, "PATH": f"{bin_dir}:{env.get('PATH', '')}"}
    command = [str(bin_dir / spec.command[0]), *spec.command[1:]]
    log = (log_dir / f"{name.split()[0].strip(':')}.log").open("wb")
    # A session of its own: the server's workers (MLServer's pool, BentoML's) stop with it.
    process = subprocess.Popen(
        command, cwd=spec.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(ready, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} not ready after 300 s; see {log.name}")
            time.sleep(0.5)
        yield process
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL after 30 s (MLServer can hang on exit)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def passengers() -> list[dict[str, Any]]:
    frame = ingest.read_raw_csv(TEST_CSV, labelled=False)
    return [
        {str(k): (None if v != v else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def model_frame(records: list[dict[str, Any]]) -> Any:
    """The passengers as the model inputs the peers take (no stored ticket sizes: 1)."""
    columns = features.records_columns(records)
    return features.inputs_frame(features.model_inputs(columns, [None] * len(records)))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for process {pid}")


class PeakRss(threading.Thread):
    """The largest resident set of `pid` while the load runs (sampled every 50 ms)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pid))


def measure(
    spec: peers.Server, env: dict[str, str], rates: list[float], args: Any, tmp: Path
) -> dict[str, Any]:
    """Everything the table says about one server (it runs alone meanwhile)."""
    result: dict[str, Any] = {"server": spec.name}
    with server(spec, env, tmp) as process:
        loadgen.warm(spec.predict, spec.one)
        result["rss_warm_mb"] = rss_mb(process.pid)
        sampler = PeakRss(process.pid)
        sampler.start()
        for connections in (8, 32):
            result[f"c{connections}"] = loadgen.closed_loop(
                spec.predict, spec.one, connections, args.seconds, tmp
            )
        sampler.done.set()
        result["rss_load_mb"] = max(sampler.peak, result["rss_warm_mb"])
        if not rates:  # this API runs first: the open-loop rates are fractions of its maximum
            top = max(result["c8"]["rps"], result["c32"]["rps"])
            rates.extend(top * f for f in FRACTIONS)
        result["open"] = [loadgen.open_loop(spec.predict, spec.one, r, args.seconds, tmp) for r in rates]
        try:  # a peer that refuses the batch body still gets its other columns
            result["batch_ms"] = loadgen.batch(spec.predict, spec.batch, args.batch_repeats)
        except httpx.HTTPStatusError as exc:
            result["batch_ms"], result["batch_error"] = None, str(exc)[:160]
    return result


FRACTIONS = (0.25, 0.5, 0.75)


def table(results: list[dict[str, Any]]) -> str:
    ours = results[0]
    floor = next((r for r in results if r["server"].startswith("floor") and "error" not in r), None)
    lines = [
        f"{'server':<30} {'rps c8':>8} {'rps c32':>8} {'x API':>6} {'x floor':>7}"
        + "".join(f" {f'p50/p99/p99.9 ms @{int(f * 100)}%':>22}" for f in FRACTIONS)
        + f" {'batch ms':>9} {'RSS MB':>11}"
    ]
    for r in results:
        if "error" in r:
            lines.append(f"{r['server']:<30} {r['error']}")
            continue
        top = max(r["c8"]["rps"], r["c32"]["rps"])
        best = max(ours["c8"]["rps"], ours["c32"]["rps"])
        x_floor = f"{top / max(floor['c8']['rps'], floor['c32']['rps']):.2f}" if floor else "-"
        line = f"{r['server']:<30} {r['c8']['rps']:>8.0f} {r['c32']['rps']:>8.0f}"
        line += f" {top / best:>6.2f} {x_floor:>7}"
        for o in r["open"]:
            late = "" if o["rps"] >= 0.95 * o["target_rps"] and not o.get("dropped") else "!"
            cell = f"{o['p50']:.2f}/{o['p99']:.2f}/{o['p999']:.1f}{late}"
            line += f" {cell:>22}"
        batch = "failed" if r["batch_ms"] is None else f"{r['batch_ms']:.1f}"
        lines.append(line + f" {batch:>9} {r['rss_warm_mb']:>5.0f}/{r['rss_load_mb']:<5.0f}")
    rates = "/".join(f"{o['target_rps']:.0f}" for o in ours["open"])
    lines.append(
        f"(open-loop rates {rates} requests/s; '!' = the server fell behind the rate; RSS warm/under load)"
    )
    return "\n".join(lines)


def export_champion(registry: Registry, champion: Any, tmp: Path) -> tuple[Path, Path]:
    """The champion's pipeline (joblib, for the Python peers) and its ONNX graph (for the floor)."""
    import joblib

    model, graph = tmp / "model.joblib", tmp / "model.onnx"
    joblib.dump(registry.load_sklearn(champion), model)
    graph.write_bytes(registry.load_onnx(champion))
    return model, graph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="load duration per measure")
    parser.add_argument("--batch-repeats", type=int, default=10)
    parser.add_argument("--base-port", type=int, default=18600)
    parser.add_argument("--only", default="", help="comma-separated name prefixes of peers to run")
    parser.add_argument("--json", type=Path, default=ROOT / ".state" / "bench" / "serving.json")
    args = parser.parse_args()

    settings = Settings()
    registry = Registry(settings.resolved_tracking_uri, settings.resolved_artifact_root, settings.model_name)
    champion = registry.alias(CHAMPION)
    if champion is None:
        raise SystemExit("no champion in the registry: run `make pipeline` first")
    records = passengers()
    batch = (records * 3)[:1000]
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as name:
        tmp = Path(name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        env.update(
            {
                "MLFLOW_TRACKING_URI": settings.resolved_tracking_uri,
                "MLFLOW_ENABLE_TELEMETRY": "false",
                "TITANIC_MLOPS_PREDICTION_LOG_URL": f"sqlite:///{tmp / 'predictions.db'}",
                "TITANIC_MLOPS_MAX_BATCH_SIZE": "1000",
            }
        )
        port = args.base_port
        api = peers.Server(
            "titanic-mlops API /predict",
            [
                "uvicorn",
                "--factory",
                "serving.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port + 20),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            f"http://127.0.0.1:{port + 20}/ready",
            f"http://127.0.0.1:{port + 20}/predict",
            json.dumps({"instances": records[:1]}).encode(),
            json.dumps({"instances": batch}).encode(),
        )
        model, graph = export_champion(registry, champion, tmp)
        others = peers.peers(
            port, model, graph, champion.uri, model_frame(records[:1]), model_frame(batch), tmp
        )
        wanted = [o for o in others if not args.only or o.name.startswith(tuple(args.only.split(",")))]
        say(f"champion {champion.uri}; {args.seconds} s per measure, one server at a time")
        rates: list[float] = []
        results = []
        for spec in [api, *wanted]:
            if spec.venv is not None and not (spec.venv / "bin" / "python").exists():
                results.append(
                    {"server": spec.name, "error": f"skipped: no venv at {spec.venv} (install.sh)"}
                )
                continue
            say(f"measuring {spec.name} ...")
            try:
                results.append(measure(spec, env, rates, args, tmp))
            except (SystemExit, subprocess.CalledProcessError, httpx.HTTPError) as exc:
                if spec is api:
                    raise
                results.append({"server": spec.name, "error": f"failed: {str(exc)[:160]}"})
    say("\n" + table(results))
    atomic.write_json(args.json, {"champion": champion.uri, "seconds": args.seconds, "results": results})
    say(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
