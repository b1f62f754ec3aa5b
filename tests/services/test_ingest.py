"""Typing raw files: what casts is typed, what does not is left for validation to name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from titanic_mlops.domain import schema
from titanic_mlops.domain.errors import RawDataError
from titanic_mlops.services import ingest

HEADER = "PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n"
ROW = '1,0,3,"Braund, Mr. Owen Harris",male,22,1,0,A/5 21171,7.25,,S\n'


def write(tmp_path: Path, text: str, name: str = "train.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_types_every_column_of_a_clean_file(tmp_path: Path) -> None:
    frame = ingest.read_raw_csv(write(tmp_path, HEADER + ROW), labelled=True)
    assert list(frame.columns) == schema.raw_columns(labelled=True)
    assert frame["Age"].dtype == "float64"
    assert frame["Pclass"].dtype == "int64"
    assert frame["Cabin"].isna().all()


def test_a_column_that_will_not_cast_stays_text_for_validation(tmp_path: Path) -> None:
    frame = ingest.read_raw_csv(write(tmp_path, HEADER + ROW.replace(",22,", ",old,")), labelled=True)
    assert frame["Age"].dtype == "string"


def test_a_missing_column_is_left_out_not_invented(tmp_path: Path) -> None:
    text = (HEADER + ROW).replace(",Embarked", "").replace(",,S\n", ",\n")
    frame = ingest.read_raw_csv(write(tmp_path, text), labelled=True)
    assert "Embarked" not in frame.columns


def test_a_missing_file_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(RawDataError, match=r"nope\.csv"):
        ingest.read_raw_csv(tmp_path / "nope.csv", labelled=True)


def test_feedback_batches_append_in_name_order_and_are_tagged(tmp_path: Path) -> None:
    raw = write(tmp_path, HEADER + ROW)
    batches = tmp_path / "feedback"
    batches.mkdir()
    write(batches, HEADER + ROW.replace("1,0,3", "200,1,1", 1), "b.csv")
    write(batches, HEADER + ROW.replace("1,0,3", "100,1,2", 1), "a.csv")
    table = ingest.load_training_table(raw, batches)
    assert table["PassengerId"].tolist() == [1, 100, 200]
    assert table[schema.SOURCE].tolist() == ["snapshot", "feedback", "feedback"]


def test_no_feedback_folder_means_snapshot_only(tmp_path: Path) -> None:
    table = ingest.load_training_table(write(tmp_path, HEADER + ROW), tmp_path / "absent")
    assert len(table) == 1
    assert isinstance(table, pd.DataFrame)
