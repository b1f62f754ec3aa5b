"""`make bench-scale`: batch scoring rows/s for 1M and 10M rows against the floor (onnxruntime on
the prepared matrix) and the text path, with peak memory (benchmarks/batch.py), written as JSON;
then the model search (sequential vs Prefect's Dask task runner) and Feast online lookup latency
(SQLite vs Redis).

Prints tables. Needs PostgreSQL and Redis on 127.0.0.1 for the Redis row (a temporary database
and an empty Redis database number, both removed at the end). Options: --rows 1000000,10000000,
--json PATH, --dask ROWS (one process vs Dask partitions), --skip-search, --skip-feast.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import feast_store as feature_store
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain import features, schema, training
from titanic_mlops.services import ingest
from titanic_mlops.services import predict as batch_scoring
from titanic_mlops.services.deployment import Deployment

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "external" / "titanic"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def synthetic_csv(path: Path, rows: int, seed: int = 0) -> None:
    """`rows` passengers resampled from test.csv, with fresh PassengerIds, written 1M at a time."""
    source = pd.read_csv(RAW / "test.csv", dtype=str)
    rng = np.random.default_rng(seed)
    block = 1_000_000
    with path.open("w", newline="") as out:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            part = source.iloc[rng.integers(0, len(source), n)].copy()
            part[schema.ID] = np.arange(start + 1, start + n + 1)
            part.to_csv(out, header=start == 0, index=False)


def training_frame() -> pd.DataFrame:
    raw = ingest.read_raw_csv(RAW / "train.csv", labelled=True)
    table = features.build_feature_table(raw.drop(columns=[schema.LABEL]), datetime(2020, 1, 1, tzinfo=UTC))
    return table.assign(**{schema.LABEL: raw.sort_values(schema.ID)[schema.LABEL].to_numpy()})


def group_sizes(tickets: Any) -> list[float | None]:
    table = features.ticket_group_sizes(pd.read_csv(RAW / "test.csv", dtype=str)["Ticket"])
    known = dict(zip(table[features.TICKET], table["ticket_group_size"].astype(float), strict=True))
    return [known.get(t) for t in tickets]


def bench_engine(sizes: list[int], tmp: Path, report: Path) -> list[tuple[str, str]]:
    """Rows/s of the batch engine against the floor and the text path, 1M and 10M rows."""
    import batch

    results: list[dict[str, Any]] = []
    for rows in sizes:
        source = tmp / f"passengers-{rows}.csv"
        synthetic_csv(source, rows)
        results += batch.run(rows, source, tmp)
        source.unlink()
        say(batch.table([r for r in results if r["rows"] == rows]))
    atomic.write_json(report, {"chunk_rows": batch.CHUNK, "results": results})
    return [("batch scoring table (above)", f"written to {report}")]


def bench_dask(rows: int, tmp: Path) -> list[tuple[str, str]]:
    """One process in chunks against Dask partitions, the same file and model."""
    import batch

    model, payload = batch.champion_like()
    source = tmp / "passengers.csv"
    synthetic_csv(source, rows)
    started = time.perf_counter()
    batch_scoring.score_csv(source, tmp / "chunked.csv", model, group_sizes, chunk_rows=200_000)
    chunked = time.perf_counter() - started
    portable = batch_scoring.PortableModel(model.ref, "onnx", payload)
    started = time.perf_counter()
    batch_scoring.score_csv_dask(source, tmp / "dask.csv", portable, group_sizes, blocksize="64MB")
    on_dask = time.perf_counter() - started
    same = pd.read_csv(tmp / "chunked.csv", nrows=100_000).equals(
        pd.read_csv(tmp / "dask.csv", nrows=100_000)
    )
    return [
        (f"score {rows:,} rows, one process, chunks of 200k", f"{rows / chunked:,.0f} rows/s"),
        (f"score, Dask processes ({os.cpu_count()} cores)", f"{rows / on_dask:,.0f} rows/s"),
        ("same predictions (first 100k rows)", str(same)),
    ]


def bench_search(tmp: Path) -> list[tuple[str, str]]:
    os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    from prefect import flow

    from pipelines.training import flow_for, select

    params = load_params(ROOT / "params.yaml")
    frame = training_frame()

    @flow
    def search(frame: pd.DataFrame, params: Any, fan_out: bool) -> training.Selection:
        return select(frame, params, fan_out)

    timings = {}
    results = {}
    for label, fan_out in (("sequential", False), ("Dask", True)):
        runner = flow_for(fan_out).task_runner
        started = time.perf_counter()
        results[label] = search.with_options(task_runner=runner)(frame, params, fan_out=fan_out)
        timings[label] = time.perf_counter() - started
    families = len(params.train.candidates)
    return [
        (f"model search, sequential ({families} families, in a flow)", f"{timings['sequential']:.1f} s"),
        (
            "model search, Dask task runner (local cluster)",
            f"{timings['Dask']:.1f} s (cluster start included)",
        ),
        ("same selection", str(results["sequential"] == results["Dask"])),
    ]


def lookups(store: Any, ids: list[int]) -> tuple[float, float]:
    feature_store.online_passenger_features(store, ids[:5])  # warm the registry cache
    times = []
    for pid in ids:
        started = time.perf_counter()
        feature_store.online_passenger_features(store, [pid])
        times.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(times, n=100)
    return quantiles[49], quantiles[98]


def bench_feast(tmp: Path, count: int = 1000) -> list[tuple[str, str]]:
    import psycopg
    import redis

    repo = tmp / "feature_repo"
    shutil.copytree(ROOT / "feature_repo", repo)
    train = ingest.read_raw_csv(RAW / "train.csv", labelled=True).drop(columns=[schema.LABEL])
    passengers = pd.concat([train, ingest.read_raw_csv(RAW / "test.csv", labelled=False)])
    event = datetime(2020, 1, 1, tzinfo=UTC)
    table = features.build_feature_table(passengers, event)
    (tmp / "data" / "features").mkdir(parents=True)
    table.to_parquet(tmp / "data" / "features" / "passengers.parquet")
    features.build_ticket_table(table).to_parquet(tmp / "data" / "features" / "tickets.parquet")
    ids = [int(i) for i in np.random.default_rng(0).integers(1, 1310, count)]
    database = f"titanic_bench_{secrets.token_hex(4)}"
    number = next(n for n in range(1, 16) if redis.Redis("127.0.0.1", 6379, db=n).dbsize() == 0)
    with psycopg.connect(PG_ADMIN, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{database}"')
    os.environ["TITANIC_MLOPS_FEAST_REDIS"] = f"127.0.0.1:6379,db={number}"
    os.environ["TITANIC_MLOPS_FEAST_REGISTRY_URL"] = (
        f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    )
    out = []
    try:
        for label, config in (("SQLite", "feature_store.yaml"), ("Redis", "feature_store.production.yaml")):
            store = feature_store.open_store(repo, tmp / "state", config, Deployment().feast_variables())
            feature_store.apply_and_materialize(store, event)
            p50, p99 = lookups(store, ids)
            out.append(
                (
                    f"Feast online lookup, {label} ({count:,} single-id lookups)",
                    f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                )
            )
    finally:
        redis.Redis("127.0.0.1", 6379, db=number).flushdb()
        with psycopg.connect(PG_ADMIN, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return out


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated row counts")
    parser.add_argument("--json", type=Path, default=ROOT / ".state" / "bench" / "scale.json")
    parser.add_argument("--dask", type=int, default=0, help="rows for one process vs Dask (0: skip)")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-feast", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as name:
        tmp = Path(name)
        rows += bench_engine([int(n) for n in args.rows.split(",")], tmp, args.json)
        if args.dask:
            rows += bench_dask(args.dask, tmp)
        if not args.skip_search:
            rows += bench_search(tmp)
        if not args.skip_feast:
            rows += bench_feast(tmp)
    width = max(len(k) for k, _ in rows)
    sys.stdout.write(f"\n{'measure':<{width}}  result\n{'-' * width}  {'-' * 40}\n")
    for key, value in rows:
        sys.stdout.write(f"{key:<{width}}  {value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
