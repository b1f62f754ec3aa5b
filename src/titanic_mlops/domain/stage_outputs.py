"""What one pipeline stage hands the next, each written and read back by the same type.

`validate` -> `train`: the validation report (reports/validation/result.json);
`train` -> `promote`: the candidate version (reports/candidate.json).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from titanic_mlops.domain.metrics import Metrics
from titanic_mlops.domain.versions import ModelRef


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidationReport(_Record):
    """The `validate` stage's result (reports/validation/result.json), as `train` reads it."""

    suite: str
    success: bool
    evaluated_expectations: int
    failed_expectations: int
    failures: list[str]
    rows: int
    results: list[dict[str, Any]]


class Candidate(_Record):
    """The version `train` registered, as `promote` reads it."""

    name: str
    version: str
    run_id: str
    holdout: Metrics
    train_rows: int
    holdout_rows: int

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, self.version, self.run_id)
