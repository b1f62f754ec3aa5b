"""Load for `make bench-serving`: closed loop (wrk, the most a server answers at N connections)
and open loop (hey at a fixed request rate: the latency a user feels at that rate).

A closed loop at a fixed concurrency mostly measures throughput: each connection waits for its
answer, so a slow server is simply sent less. The open loop sends at the rate asked whatever the
server does, and every request's own time goes into p50/p99/p99.9 (hey's per-request CSV).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import httpx

HEADERS = {"content-type": "application/json"}


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
    """hey at `rate` requests/s in total (8 workers, each at rate/8): the achieved rate, latency
    quantiles over every request, and failures."""
    workers = 8
    payload = tmp / "body.json"
    payload.write_bytes(body)
    command = ["hey", "-z", f"{seconds}s", "-c", str(workers), "-q", f"{max(rate / workers, 0.1):.2f}"]
    command += ["-m", "POST", "-T", "application/json", "-D", str(payload), "-o", "csv", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    times = sorted(float(r["response-time"]) * 1e3 for r in rows)
    if not times:
        raise SystemExit(f"hey sent nothing to {url}")
    return {
        "target_rps": rate,
        "rps": len(times) / seconds,
        "p50": quantile(times, 0.5),
        "p99": quantile(times, 0.99),
        "p999": quantile(times, 0.999),
        "errors": float(sum(r["status-code"] != "200" for r in rows)),
    }


def quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
