"""The golden set: twenty known passengers every model must score before it serves.

Chosen to cover each class, both sexes, every port and a missing one, missing Age and Fare, a
zero fare, cabins and none, the rare and aliased titles, and large ticket groups.
"""

from __future__ import annotations

from typing import Any, Final

from titanic_mlops.domain import features

_N = None
GOLDEN_RECORDS: Final[tuple[dict[str, Any], ...]] = (
    {"PassengerId": 1, "Pclass": 3, "Name": "Braund, Mr. Owen Harris", "Sex": "male", "Age": 22.0,
     "SibSp": 1, "Parch": 0, "Ticket": "A/5 21171", "Fare": 7.25, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 2, "Pclass": 1, "Name": "Cumings, Mrs. John Bradley (Florence Briggs Thayer)",
     "Sex": "female", "Age": 38.0, "SibSp": 1, "Parch": 0, "Ticket": "PC 17599", "Fare": 71.2833,
     "Cabin": "C85", "Embarked": "C"},
    {"PassengerId": 3, "Pclass": 3, "Name": "Heikkinen, Miss. Laina", "Sex": "female", "Age": 26.0,
     "SibSp": 0, "Parch": 0, "Ticket": "STON/O2. 3101282", "Fare": 7.925, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 8, "Pclass": 3, "Name": "Palsson, Master. Gosta Leonard", "Sex": "male", "Age": 2.0,
     "SibSp": 3, "Parch": 1, "Ticket": "349909", "Fare": 21.075, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 62, "Pclass": 1, "Name": "Icard, Miss. Amelie", "Sex": "female", "Age": 38.0,
     "SibSp": 0, "Parch": 0, "Ticket": "113572", "Fare": 80.0, "Cabin": "B28", "Embarked": _N},
    {"PassengerId": 180, "Pclass": 3, "Name": "Leonard, Mr. Lionel", "Sex": "male", "Age": 36.0,
     "SibSp": 0, "Parch": 0, "Ticket": "LINE", "Fare": 0.0, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 160, "Pclass": 3, "Name": "Sage, Master. Thomas Henry", "Sex": "male", "Age": _N,
     "SibSp": 8, "Parch": 2, "Ticket": "CA. 2343", "Fare": 69.55, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 1044, "Pclass": 3, "Name": "Storey, Mr. Thomas", "Sex": "male", "Age": 60.5,
     "SibSp": 0, "Parch": 0, "Ticket": "3701", "Fare": _N, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 890, "Pclass": 1, "Name": "Behr, Mr. Karl Howell", "Sex": "male", "Age": 26.0,
     "SibSp": 0, "Parch": 0, "Ticket": "111369", "Fare": 30.0, "Cabin": "C148", "Embarked": "C"},
    {"PassengerId": 31, "Pclass": 1, "Name": "Uruchurtu, Don. Manuel E", "Sex": "male", "Age": 40.0,
     "SibSp": 0, "Parch": 0, "Ticket": "PC 17601", "Fare": 27.7208, "Cabin": _N, "Embarked": "C"},
    {"PassengerId": 150, "Pclass": 2, "Name": "Byles, Rev. Thomas Roussel Davids", "Sex": "male",
     "Age": 42.0, "SibSp": 0, "Parch": 0, "Ticket": "244310", "Fare": 13.0, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 642, "Pclass": 1, "Name": "Sagesser, Mlle. Emma", "Sex": "female", "Age": 24.0,
     "SibSp": 0, "Parch": 0, "Ticket": "PC 17477", "Fare": 69.3, "Cabin": "B35", "Embarked": "C"},
    {"PassengerId": 711, "Pclass": 1, "Name": 'Mayne, Mlle. Berthe Antonine ("Mrs de Villiers")',
     "Sex": "female", "Age": 24.0, "SibSp": 0, "Parch": 0, "Ticket": "PC 17482", "Fare": 49.5042,
     "Cabin": "C90", "Embarked": "C"},
    {"PassengerId": 893, "Pclass": 3, "Name": "Wilkes, Mrs. James (Ellen Needs)", "Sex": "female",
     "Age": 47.0, "SibSp": 1, "Parch": 0, "Ticket": "363272", "Fare": 7.0, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 900, "Pclass": 3, "Name": "Abrahim, Mrs. Joseph (Sophie Halaut Easu)",
     "Sex": "female", "Age": 18.0, "SibSp": 0, "Parch": 0, "Ticket": "2657", "Fare": 7.2292,
     "Cabin": _N, "Embarked": "C"},
    {"PassengerId": 906, "Pclass": 1, "Name": "Chaffee, Mrs. Herbert Fuller (Carrie Constance Toogood)",
     "Sex": "female", "Age": 47.0, "SibSp": 1, "Parch": 0, "Ticket": "W.E.P. 5734", "Fare": 61.175,
     "Cabin": "E31", "Embarked": "S"},
    {"PassengerId": 917, "Pclass": 3, "Name": "Robins, Mr. Alexander A", "Sex": "male", "Age": 50.0,
     "SibSp": 1, "Parch": 0, "Ticket": "A/5. 3337", "Fare": 14.5, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 1000, "Pclass": 3, "Name": 'Willer, Mr. Aaron (Abi Weller")"', "Sex": "male",
     "Age": _N, "SibSp": 0, "Parch": 0, "Ticket": "3410", "Fare": 8.7125, "Cabin": _N, "Embarked": "S"},
    {"PassengerId": 1306, "Pclass": 1, "Name": "Oliva y Ocana, Dona. Fermina", "Sex": "female",
     "Age": 39.0, "SibSp": 0, "Parch": 0, "Ticket": "PC 17758", "Fare": 108.9, "Cabin": "C105",
     "Embarked": "C"},
    {"PassengerId": 1309, "Pclass": 3, "Name": "Peter, Master. Michael J", "Sex": "male", "Age": _N,
     "SibSp": 1, "Parch": 1, "Ticket": "2668", "Fare": 22.3583, "Cabin": _N, "Embarked": "C"},
)  # fmt: skip

# How many of the 1,309 known passengers share each golden ticket (the rest travel alone).
GOLDEN_TICKET_SIZES: Final[dict[str, int]] = {
    "PC 17599": 2, "349909": 5, "113572": 2, "LINE": 4, "CA. 2343": 11, "PC 17477": 2,
    "W.E.P. 5734": 2, "A/5. 3337": 2, "PC 17758": 3, "2668": 3,
}  # fmt: skip


def golden_inputs() -> features.Columns:
    """The model inputs of the golden passengers, through the one feature implementation."""
    sizes = [GOLDEN_TICKET_SIZES.get(str(r["Ticket"])) for r in GOLDEN_RECORDS]
    return features.model_inputs(features.records_columns(GOLDEN_RECORDS), sizes)
