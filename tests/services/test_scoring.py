"""The scoring service: records, typed tables and stored inputs reach the model the same way."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from tests.support.samples import PASSENGER
from titanic_mlops.domain import features, golden
from titanic_mlops.domain.ingest import type_columns
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services import scoring

SIZES = {"330911": 2.0, "PC 17599": 3.0}


def lookup(tickets: list[str]) -> list[float | None]:
    return [SIZES.get(t) for t in tickets]


class FarePerPerson:
    """A stand-in scorer whose answer is its input, so a test sees exactly what the model got."""

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(inputs["fare_per_person"], dtype=np.float64) / 1000.0


MODEL = scoring.LoadedModel(ModelRef("m", "7", "run"), "sklearn", FarePerPerson())


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"Age": None, "Fare": None},
        {"Embarked": None, "Cabin": "B57 B59"},
        {"Cabin": "", "Name": "Nobody"},
        {"Ticket": "PC 17599", "Name": "Smith, Mme. Anna", "SibSp": 2, "Parch": 3},
        {"Ticket": "unknown-ticket", "Fare": 0.0, "Name": "Duff Gordon, Sir. Cosmo"},
    ],
)
def test_a_request_record_and_the_same_row_of_a_file_score_alike(change: dict[str, object]) -> None:
    record = {**PASSENGER, **change}
    by_record = scoring.score_records([record], MODEL, lookup)
    text = pd.DataFrame([{k: None if v is None else str(v) for k, v in record.items()}])
    by_file = scoring.score_frame(type_columns(text, labelled=False), MODEL, lookup)
    pd.testing.assert_frame_equal(
        features.inputs_frame(by_record.inputs), features.inputs_frame(by_file.inputs)
    )
    assert by_record.passenger_ids == by_file.passenger_ids == [PASSENGER["PassengerId"]]
    np.testing.assert_array_equal(by_record.probability, by_file.probability)


def test_a_scoring_names_its_version_and_decides_at_the_threshold() -> None:
    scored = scoring.score_records([{**PASSENGER, "Fare": 999.0, "Ticket": "x"}, PASSENGER], MODEL, lookup)
    assert scored.model.version == "7"
    assert scored.survived.tolist() == [1, 0]
    assert scoring.submission(scored).to_dict("list") == {"PassengerId": [892, 892], "Survived": [1, 0]}


def test_the_golden_inputs_are_the_request_path_s() -> None:
    records = list(golden.GOLDEN_RECORDS)
    sizes = [golden.GOLDEN_TICKET_SIZES.get(str(r["Ticket"])) for r in records]
    expected = features.model_inputs(features.records_columns(records), sizes)
    pd.testing.assert_frame_equal(
        features.inputs_frame(golden.golden_inputs()), features.inputs_frame(expected)
    )
    assert list(features.inputs_frame(golden.golden_inputs()).columns) == list(features.MODEL_INPUTS)


def test_missing_counts_name_the_empty_inputs() -> None:
    scored = scoring.score_records([{**PASSENGER, "Age": None, "Fare": None}], MODEL, lookup)
    assert features.missing_counts(scored.inputs) == {"age": 1, "fare": 1, "fare_per_person": 1}


def test_log_rows_carry_the_record_and_its_inputs_with_gaps_as_nan() -> None:
    record = {**PASSENGER, "Age": None}
    scored = scoring.score_records([record], MODEL, lookup)
    (row,) = scoring.log_rows(scored, [record], "req", 1.5)
    assert (row.request_id, row.model_version, row.passenger_id, row.record) == ("req", "7", 892, record)
    assert np.isnan(row.inputs["age"]) and row.inputs["ticket_group_size"] == 2.0
