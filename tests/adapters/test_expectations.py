"""The data contract: the snapshot passes, and each kind of corruption is named by column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.workspace import RAW_TRAIN, ROOT
from titanic_mlops.adapters import expectations
from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain.stage_outputs import ValidationReport
from titanic_mlops.services import ingest

PARAMS = load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    return ingest.read_raw_csv(RAW_TRAIN, labelled=True)


def check(frame: pd.DataFrame, docs: Path | None = None) -> ValidationReport:
    return expectations.validate_frame(frame, PARAMS.validate_, PARAMS.ingest, labelled=True, docs_dir=docs)


def test_the_upstream_snapshot_passes_and_renders_data_docs(snapshot: pd.DataFrame, tmp_path: Path) -> None:
    result = check(snapshot, tmp_path / "docs")
    assert result.success, result.failures
    assert result.evaluated_expectations >= 40
    assert (tmp_path / "docs" / "index.html").is_file()


def test_a_missing_column_is_named(snapshot: pd.DataFrame) -> None:
    result = check(snapshot.drop(columns=["Embarked"]))
    assert not result.success
    assert any("expect_column_to_exist failed on column Embarked" in f for f in result.failures)


def test_a_wrong_type_is_named(snapshot: pd.DataFrame) -> None:
    frame = snapshot.copy()
    frame["Fare"] = frame["Fare"].astype("string")
    result = check(frame)
    assert any("in_type_list failed on column Fare" in f for f in result.failures)


def test_an_impossible_value_is_named(snapshot: pd.DataFrame) -> None:
    frame = snapshot.copy()
    frame.loc[0, "Age"] = -4.0
    result = check(frame)
    assert any("between failed on column Age" in f and "-4.0" in f for f in result.failures)


def test_an_unknown_category_is_named(snapshot: pd.DataFrame) -> None:
    frame = snapshot.copy()
    frame["Sex"] = frame["Sex"].astype(object)
    frame.loc[3, "Sex"] = "unknown"
    result = check(frame)
    assert any("in_set failed on column Sex" in f and "unknown" in f for f in result.failures)


def test_duplicate_ids_and_a_blown_null_budget_are_both_reported(snapshot: pd.DataFrame) -> None:
    frame = snapshot.copy()
    frame.loc[1, "PassengerId"] = frame.loc[0, "PassengerId"]
    frame.loc[: len(frame) // 2, "Age"] = np.nan
    failures = " | ".join(check(frame).failures)
    assert "unique failed on column PassengerId" in failures
    assert "not_be_null failed on column Age" in failures


def test_too_few_rows_fail_the_row_count_band(snapshot: pd.DataFrame) -> None:
    result = check(snapshot.head(10))
    assert any("row_count" in f for f in result.failures)
