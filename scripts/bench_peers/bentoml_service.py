"""BentoML for `make bench-serving`: a service loading the champion, one worker.

Runs in its own throw-away venv (never the project's lock). BENCH_MODEL is the champion's
scikit-learn pipeline (joblib); the body is {"instances": [[the model inputs]]}.
Run: bentoml serve bentoml_service:Titanic --port P
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
import joblib
import pandas as pd

COLUMNS = os.environ["BENCH_COLUMNS"].split(",")


@bentoml.service(workers=1)
class Titanic:
    def __init__(self) -> None:
        self.pipeline = joblib.load(os.environ["BENCH_MODEL"])

    @bentoml.api
    def predict(self, instances: list[list[Any]]) -> list[float]:
        frame = pd.DataFrame(instances, columns=COLUMNS)
        return [float(p) for p in self.pipeline.predict_proba(frame)[:, 1]]
