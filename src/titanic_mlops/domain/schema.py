"""The passenger contract: every raw column, its type, its allowed values and bounds, in one place.

Validation (the Great Expectations suite), ingest, batch scoring and the API's request schema all
read this module, so a value the API refuses is a value training refuses too.
"""

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

# Inclusive bounds past which a value is an input error, not a passenger. They also keep every
# number finite through the float32 model inputs and the JSON prediction log.
BOUNDS: Final[dict[str, tuple[float, float]]] = {
    ID: (1, 2**31 - 1),
    "Age": (0.0, 100.0),
    "Fare": (0.0, 1000.0),
    "SibSp": (0, 10),
    "Parch": (0, 10),
}
MAX_TEXT: Final = 500  # characters in Name, Ticket or Cabin

REQUIRED_NON_NULL: Final = (ID, "Pclass", "Name", "Sex", "SibSp", "Parch", "Ticket")
NULLABLE: Final = ("Age", "Fare", "Cabin", "Embarked")

# Where a row came from: the upstream snapshot or production feedback (see docs/pipeline.md).
SOURCE: Final = "source"
SOURCE_SNAPSHOT: Final = "snapshot"
SOURCE_FEEDBACK: Final = "feedback"

# The one decision threshold: P(survived) at or above it is answered as survived.
THRESHOLD: Final = 0.5


def raw_columns(labelled: bool) -> list[str]:
    """Kaggle column order, with the label after the id when the table is labelled."""
    columns = list(RAW_DTYPES)
    if labelled:
        columns.insert(1, LABEL)
    return columns
