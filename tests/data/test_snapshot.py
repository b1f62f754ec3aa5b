"""The project's copy of the upstream data is the snapshot SOURCE.md describes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from titanic_mlops.services import ingest

DATA = Path(__file__).resolve().parents[2] / "data" / "external" / "titanic"


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        ("train.csv", "8331e5a2532f5fdb66153a8fc053df08a7dc9d2584f246c7fb1752f0a7139ca5"),
        ("test.csv", "7aef8fe23a77833e2f72f9b55a027b133d508d3f8e3bb5929944e384f619cfb2"),
    ],
)
def test_checksums_match_the_provenance_note(name: str, digest: str) -> None:
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest
    assert digest in (DATA / "SOURCE.md").read_text()


def test_known_properties_of_train() -> None:
    train = ingest.read_raw_csv(DATA / "train.csv", labelled=True)
    assert len(train) == 891
    assert round(train["Survived"].mean(), 4) == 0.3838
    assert train["Age"].isna().sum() == 177
    assert train["Cabin"].isna().sum() == 687
    assert train["Embarked"].isna().sum() == 2


def test_known_properties_of_test() -> None:
    test = ingest.read_raw_csv(DATA / "test.csv", labelled=False)
    assert len(test) == 418
    assert test["PassengerId"].min() == 892
    assert test["PassengerId"].max() == 1309
    assert test["Fare"].isna().sum() == 1
