"""The batch file contract is the API's: what one refuses, the other refuses; the docs name it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic
import pytest

from serving.schemas import Passenger
from titanic_mlops.cli.main import parser
from titanic_mlops.domain import features, schema

ROOT = Path(__file__).resolve().parents[2]
GOOD: dict[str, Any] = dict(schema.EXAMPLE_PASSENGER)
BAD = [
    ("Sex", "robot"),
    ("Age", -5.0),
    ("Age", 100.5),
    ("Fare", math.inf),
    ("Fare", -0.01),
    ("Pclass", 4),
    ("Pclass", "first"),
    ("SibSp", 11),
    ("SibSp", 1.5),
    ("Embarked", "X"),
    ("Name", None),
    ("Ticket", None),
    ("Name", "x" * 501),
    ("PassengerId", 0),
]


def as_file_cells(record: dict[str, Any]) -> pd.DataFrame:
    """One row as `pd.read_csv(dtype=str)` reads it: text cells, gaps as missing."""
    return pd.DataFrame([{k: None if v is None else str(v) for k, v in record.items()}], dtype=object)


def test_a_good_passenger_passes_both() -> None:
    Passenger.model_validate(GOOD)
    assert not schema.batch_problems(as_file_cells(GOOD))


@pytest.mark.parametrize(("field", "value"), BAD)
def test_what_the_api_refuses_the_batch_contract_refuses(field: str, value: object) -> None:
    record = {**GOOD, field: value}
    with pytest.raises(pydantic.ValidationError):
        Passenger.model_validate(record)
    found = schema.batch_problems(as_file_cells(record), first_row=7)
    assert found.total == 1
    assert found.line().startswith(f"row 7 {field} ")


def test_whole_floats_in_a_file_are_whole_numbers() -> None:
    assert not schema.batch_problems(as_file_cells({**GOOD, "Pclass": "3.0", "SibSp": "1.0"}))


def test_the_onnx_inputs_are_documented_where_export_help_points() -> None:
    docs = (ROOT / "docs" / "pipeline.md").read_text()
    section = docs.split("### The ONNX graph's inputs", 1)[1].split("\n## ", 1)[0]
    assert len(features.MODEL_INPUTS) == 15
    for name in features.MODEL_INPUTS:
        assert f"`{name}`" in section, name
    export = parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    assert "15 engineered model inputs" in " ".join(export.format_help().split())
