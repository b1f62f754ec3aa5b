"""`titanic-mlops explain`: a batch of passengers explained, apart from `services.explain` so the
train stage (which imports that module for the SHAP summary) does not depend on batch scoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from titanic_mlops import atomic
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import scoring
from titanic_mlops.services.explain import ExplainerCache, explain_columns, explanation_table
from titanic_mlops.services.ingest import read_raw_csv


def explain_file(source: Path, output: Path, registry: Registry, ref: ModelRef, sizes: Any) -> int:
    """`titanic-mlops explain`: a Kaggle-format CSV -> one row of contributions per passenger."""
    model = scoring.load_model(registry, ref, "sklearn")
    scored = scoring.score_frame(read_raw_csv(source, labelled=False), model, sizes)
    explained = explain_columns(ExplainerCache(registry).get(ref), scored.inputs)
    atomic.write_csv(output, explanation_table(explained, scored.passenger_ids))
    return len(scored)
