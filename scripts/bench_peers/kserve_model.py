"""KServe's Python model server for `make bench-serving`: a kserve.Model loading the champion.

Runs in its own throw-away venv (never the project's lock). BENCH_MODEL is the champion's
scikit-learn pipeline (joblib); the body is the v1 protocol, {"instances": [[the model inputs]]}.
Run: BENCH_PORT=P python kserve_model.py
"""

from __future__ import annotations

import os
from typing import Any

import joblib
import kserve
import pandas as pd

COLUMNS = os.environ["BENCH_COLUMNS"].split(",")


class Titanic(kserve.Model):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.pipeline: Any = None
        self.load()

    def load(self) -> bool:
        self.pipeline = joblib.load(os.environ["BENCH_MODEL"])
        self.ready = True
        return self.ready

    def predict(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        frame = pd.DataFrame(payload["instances"], columns=COLUMNS)
        return {"predictions": self.pipeline.predict_proba(frame)[:, 1].tolist()}


if __name__ == "__main__":
    port = int(os.environ["BENCH_PORT"])
    kserve.ModelServer(http_port=port, grpc_port=port + 1, workers=1, enable_grpc=False).start(
        [Titanic("titanic")]
    )
