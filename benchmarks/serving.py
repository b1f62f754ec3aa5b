"""`make bench-serving`: this API against `mlflow models serve` for the same champion version.

Both servers run one worker on this machine and take the same single-passenger load at the same
concurrency (wrk when installed, else an asyncio httpx load generator here), one after the other
in one run; then a 1,000-passenger batch through /predict. Prints a table; the targets (issue 3)
are >= 5x mlflow's requests/s and a p99 under 10 ms, reported, never asserted.

mlflow serves the registered scikit-learn pipeline and takes the model's 14-column vector, so it
does less per request than /predict (no validation, no feature derivation, no store lookup, no
prediction log). The API's benchmark traffic goes to a throw-away prediction log, never the real one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(name: str, command: list[str], env: dict[str, str], ready: str, log_dir: Path) -> Iterator[None]:
    """Start a server, wait until `ready` answers 200, and always stop it."""
    log = (log_dir / f"{name}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def passengers() -> list[dict[str, Any]]:
    frame = ingest.read_raw_csv(TEST_CSV, labelled=False)
    return [
        {str(k): (None if v != v else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def mlflow_body(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The same passengers as model vectors, in mlflow's dataframe_split format (gaps as null)."""
    frame = features.inputs_frame(
        features.model_inputs(features.records_columns(records), [None] * len(records))
    )
    rows = [
        [None if isinstance(v, float) and v != v else v for v in row] for row in frame.itertuples(index=False)
    ]
    return {"dataframe_split": {"columns": list(features.MODEL_INPUTS), "data": rows}}


def wrk(url: str, body: bytes, concurrency: int, seconds: int, tmp: Path) -> dict[str, float]:
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rate,
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "errors": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


async def _drive(url: str, body: bytes, concurrency: int, seconds: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1e3,
        "p99": latencies[int(len(latencies) * 0.99)] * 1e3,
        "errors": float(errors),
        "socket_errors": 0.0,
    }


def load(url: str, body: bytes, concurrency: int, seconds: int, tmp: Path) -> dict[str, float]:
    for _ in range(50):  # warm-up: caches, first-request imports, connection setup
        httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
    if shutil.which("wrk"):
        return wrk(url, body, concurrency, seconds, tmp)
    return asyncio.run(_drive(url, body, concurrency, seconds))


def combine(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Mean requests/s over the rounds; the median round's p50 and the worst round's p99."""
    return {
        "rps": statistics.fmean(r["rps"] for r in rounds),
        "p50": statistics.median(r["p50"] for r in rounds),
        "p99": max(r["p99"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
    }


def batch_latency(url: str, body: bytes, repeats: int) -> list[float]:
    times = []
    with httpx.Client(timeout=120) as client:
        for i in range(repeats + 2):
            started = time.perf_counter()
            response = client.post(url, content=body, headers={"content-type": "application/json"})
            elapsed = (time.perf_counter() - started) * 1e3
            response.raise_for_status()
            if i >= 2:  # the first two warm up
                times.append(elapsed)
    return sorted(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="load duration per server and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-repeats", type=int, default=20)
    args = parser.parse_args()

    settings = Settings()
    registry = Registry(settings.resolved_tracking_uri, settings.resolved_artifact_root, settings.model_name)
    champion = registry.alias(CHAMPION)
    if champion is None:
        raise SystemExit("no champion in the registry: run `make pipeline` first")
    records = passengers()
    one = records[0]
    batch = (records * 3)[:1000]
    api_one = json.dumps({"instances": [one]}).encode()
    api_batch = json.dumps({"instances": batch}).encode()
    mlflow_one = json.dumps(mlflow_body([one])).encode()
    mlflow_batch = json.dumps(mlflow_body(batch)).encode()

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as name:
        tmp = Path(name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        env.update(
            {
                "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
                "MLFLOW_TRACKING_URI": settings.resolved_tracking_uri,
                "MLFLOW_ENABLE_TELEMETRY": "false",
                "TITANIC_MLOPS_PREDICTION_LOG_URL": f"sqlite:///{tmp / 'predictions.db'}",
                "TITANIC_MLOPS_MAX_BATCH_SIZE": "1000",
            }
        )
        api_port, mlflow_port = free_port(), free_port()
        api = f"http://127.0.0.1:{api_port}"
        mlflow = f"http://127.0.0.1:{mlflow_port}"
        api_cmd = [str(BIN / "uvicorn"), "--factory", "serving.app:create_app", "--host", "127.0.0.1"]
        api_cmd += ["--port", str(api_port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
        mlflow_cmd = [str(BIN / "mlflow"), "models", "serve", "-m", champion.uri, "--env-manager", "local"]
        mlflow_cmd += ["-h", "127.0.0.1", "-p", str(mlflow_port)]
        tool = "wrk" if shutil.which("wrk") else "httpx (asyncio)"
        say(
            f"champion {champion.uri}; {args.concurrency} connections, {args.rounds} alternating rounds"
            f" of {args.seconds} s per server, load by {tool}"
        )
        with (
            server("api", api_cmd, env, api + "/ready", tmp),
            server("mlflow", mlflow_cmd, env, mlflow + "/health", tmp),
        ):
            # Alternate short rounds, so a change in the machine's other load hits both alike.
            mine_rounds, theirs_rounds = [], []
            for _ in range(args.rounds):
                mine_rounds.append(load(api + "/predict", api_one, args.concurrency, args.seconds, tmp))
                theirs_rounds.append(
                    load(mlflow + "/invocations", mlflow_one, args.concurrency, args.seconds, tmp)
                )
            api_batch_ms = batch_latency(api + "/predict", api_batch, args.batch_repeats)
            mlflow_batch_ms = batch_latency(
                mlflow + "/invocations", mlflow_batch, max(3, args.batch_repeats // 4)
            )
            version = httpx.get(api + "/model").json()["version"]
        mine, theirs = combine(mine_rounds), combine(theirs_rounds)

    say(f"\nsingle passenger, concurrency {args.concurrency} (API served version {version})")
    say(f"{'server':<34} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    rows = [("titanic-mlops API /predict (onnx)", mine), ("mlflow models serve /invocations", theirs)]
    for label, r in rows:
        say(f"{label:<34} {r['rps']:>11.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>7.0f}")
    ratio = mine["rps"] / theirs["rps"]
    say(f"{'ratio (API / mlflow)':<34} {ratio:>10.1f}x   target >= 5x; API p99 target < 10 ms")
    say("\n1,000-passenger batch, one request at a time")
    say(f"{'server':<34} {'p50 ms':>8} {'max ms':>8} {'runs':>5}")
    for label, times in (
        ("titanic-mlops API /predict", api_batch_ms),
        ("mlflow models serve", mlflow_batch_ms),
    ):
        say(f"{label:<34} {statistics.median(times):>8.1f} {max(times):>8.1f} {len(times):>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
