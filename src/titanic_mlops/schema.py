"""The raw passenger table: one place that names every column, its type and its allowed values."""

from __future__ import annotations

from typing import Final

ID: Final = "PassengerId"
LABEL: Final = "Survived"

# Integer columns that may be missing are read as floats, so a gap never turns a column to object.
RAW_DTYPES: Final[dict[str, str]] = {
    ID: "int64",
    "Pclass": "int64",
    "Name": "string",
    "Sex": "string",
    "Age": "float64",
    "SibSp": "int64",
    "Parch": "int64",
    "Ticket": "string",
    "Fare": "float64",
    "Cabin": "string",
    "Embarked": "string",
}
LABEL_DTYPE: Final = "int64"

ALLOWED_VALUES: Final[dict[str, tuple[object, ...]]] = {
    "Sex": ("male", "female"),
    "Pclass": (1, 2, 3),
    "Embarked": ("C", "Q", "S"),
    LABEL: (0, 1),
}

REQUIRED_NON_NULL: Final = (ID, "Pclass", "Name", "Sex", "SibSp", "Parch", "Ticket")
NULLABLE: Final = ("Age", "Fare", "Cabin", "Embarked")

# Where a row came from: the upstream snapshot or production feedback (see docs/data.md).
SOURCE: Final = "source"
SOURCE_SNAPSHOT: Final = "snapshot"
SOURCE_FEEDBACK: Final = "feedback"


def raw_columns(labelled: bool) -> list[str]:
    """Kaggle column order, with the label after the id when the table is labelled."""
    columns = list(RAW_DTYPES)
    if labelled:
        columns.insert(1, LABEL)
    return columns
