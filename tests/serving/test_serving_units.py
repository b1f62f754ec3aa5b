"""Unit tests of the core pieces serving relies on: request vectors, the ticket cache, golden checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from titanic_mlops import features, golden, prediction, request_features

from .conftest import PASSENGER

SIZES = {"330911": 2.0, "PC 17599": 3.0}


def lookup(tickets: list[str]) -> pd.Series:
    return pd.Series([SIZES.get(t) for t in tickets], dtype="float64")


def batch_vectors(records: list[dict[str, object]]) -> pd.DataFrame:
    return prediction.model_inputs(prediction.records_frame(records), lookup)


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
def test_record_vector_equals_the_batch_path(change: dict[str, object]) -> None:
    record = {**PASSENGER, **change}
    frame = request_features.vectors_frame(
        [request_features.record_vector(record, SIZES.get(str(record["Ticket"])))]
    )
    pd.testing.assert_frame_equal(frame, batch_vectors([record]), check_dtype=True)


def test_the_golden_set_goes_through_both_paths_alike() -> None:
    records = list(golden.GOLDEN_RECORDS)
    sizes = [golden.GOLDEN_TICKET_SIZES.get(str(r["Ticket"])) for r in records]
    vectors = [request_features.record_vector(r, s) for r, s in zip(records, sizes, strict=True)]
    pd.testing.assert_frame_equal(request_features.vectors_frame(vectors), golden.golden_frame())
    assert list(golden.golden_frame().columns) == list(features.MODEL_FEATURES)


def test_missing_counts_name_the_empty_inputs() -> None:
    vectors = [request_features.record_vector({**PASSENGER, "Age": None, "Fare": None}, None)]
    assert request_features.missing_counts(vectors) == {"age": 1, "fare": 1, "fare_per_person": 1}


def test_ticket_sizes_fetch_each_ticket_once_until_cleared() -> None:
    calls: list[list[str]] = []

    def fetch(tickets: list[str]) -> pd.Series:
        calls.append(list(tickets))
        return lookup(tickets)

    cache = request_features.TicketSizes(fetch)
    assert cache.sizes(["330911", "nope", "330911"]) == [2.0, None, 2.0]
    assert cache.sizes(["nope", "330911"]) == [None, 2.0]
    assert calls == [["330911", "nope"]]
    cache.clear()
    assert cache(["330911"]).tolist() == [2.0]
    assert len(calls) == 2


def test_ticket_sizes_forget_everything_past_the_bound() -> None:
    cache = request_features.TicketSizes(lookup, max_entries=2)
    cache.sizes(["a", "b"])
    cache.sizes(["c"])
    assert cache.sizes(["330911"]) == [2.0]


def test_vectors_frame_keeps_missing_numbers_as_nan() -> None:
    frame = request_features.vectors_frame([request_features.record_vector({**PASSENGER, "Age": None}, None)])
    assert np.isnan(frame.loc[0, "age"]) and frame["age"].dtype == np.float64
