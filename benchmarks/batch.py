"""Batch scoring rows/s against the floor, each measure in its own process (its own peak memory).

The floor is onnxruntime alone on the prepared input matrix (the feed built outside the clock).
`engine` is `score_frame` from a parsed frame (features, ticket sizes, the graph, over whole
chunks); `engine CSV` and `text CSV` are `titanic-mlops predict --chunk-rows` end to end, through
the parser-typed path and through the text-then-cast path batch scoring had before. The model is
the champion's configuration in reports/metrics.json (cv family and parameters), fitted here on
train.csv, so the bench needs no registry.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("floor", "engine", "engine CSV", "text CSV")
CHUNK = 200_000


def champion_like() -> tuple[Any, bytes]:
    """The champion's family and parameters from the last run's report, fitted on train.csv:
    the loaded ONNX model and its graph."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from scale import training_frame

    from titanic_mlops.adapters import onnx_graph
    from titanic_mlops.domain import features, schema, training
    from titanic_mlops.domain.versions import ModelRef
    from titanic_mlops.services import scoring

    cv = json.loads((ROOT / "reports" / "metrics.json").read_text())["cv"]
    frame = training_frame()
    estimator = training.estimator_for(cv["family"], 0).set_params(**cv["params"])
    pipeline = training.build_pipeline(estimator).fit(
        features.coerce_inputs(frame), frame[schema.LABEL].to_numpy()
    )
    ref = ModelRef(cv["family"], "bench", "-")
    graph = onnx_graph.to_onnx(pipeline)
    return scoring.LoadedModel(ref, "onnx", onnx_graph.OnnxModel(graph)), graph


def measure(name: str, source: Path, out: Path) -> dict[str, float]:
    """Seconds for one measure over the whole file (run inside the child process)."""
    from scale import group_sizes

    from titanic_mlops.domain import features
    from titanic_mlops.services import predict, scoring

    model, _ = champion_like()
    clock = 0.0
    if name in ("floor", "engine"):
        for raw in predict.parsed_chunks(source, CHUNK):
            if name == "floor":
                inputs = features.model_inputs(features.frame_columns(raw), np.ones(len(raw)))
                feed = model.scorer.feed(inputs)
                started = time.perf_counter()
                model.scorer.run(feed)
            else:
                started = time.perf_counter()
                scoring.score_frame(raw, model, group_sizes)
            clock += time.perf_counter() - started
    else:
        chunks = predict.parsed_chunks if name == "engine CSV" else predict.text_chunks
        started = time.perf_counter()
        predict.score_chunks(source, out, model, group_sizes, CHUNK, chunks)
        clock = time.perf_counter() - started
    return {"seconds": clock, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(rows: int, source: Path, tmp: Path) -> list[dict[str, Any]]:
    """Every measure on `source` (`rows` rows), one child process each."""
    results = []
    for name in MEASURES:
        child = subprocess.run(
            [sys.executable, __file__, name, str(source), str(tmp / "out.csv")],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"batch measure {name!r} failed:\n{child.stderr[-3000:]}")
        got = json.loads(child.stdout.strip().splitlines()[-1])
        results.append({"rows": rows, "measure": name, **got, "rows_per_s": rows / got["seconds"]})
    floor = results[0]["rows_per_s"]
    for result in results:
        result["vs_floor"] = result["rows_per_s"] / floor
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'rows':>11}  {'measure':<11} {'rows/s':>11} {'x floor':>8} {'seconds':>8} {'peak MB':>8}"]
    for r in results:
        lines.append(
            f"{r['rows']:>11,}  {r['measure']:<11} {r['rows_per_s']:>11,.0f} {r['vs_floor']:>8.2f}"
            f" {r['seconds']:>8.1f} {r['peak_mb']:>8,.0f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))) + "\n")
