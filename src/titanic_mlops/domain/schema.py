"""The passenger contract: every raw column, its type, its allowed values and bounds, in one place.

Validation (the Great Expectations suite), ingest, batch scoring and the API's request schema all
read this module, so a value the API refuses is a value training refuses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

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

# Kaggle test.csv's first passenger: the API's documented example, and the tests' sample.
EXAMPLE_PASSENGER: Final[dict[str, object]] = {
    ID: 892,
    "Pclass": 3,
    "Name": "Kelly, Mr. James",
    "Sex": "male",
    "Age": 34.5,
    "SibSp": 0,
    "Parch": 0,
    "Ticket": "330911",
    "Fare": 7.8292,
    "Cabin": None,
    "Embarked": "Q",
}
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


# --- The contract on a batch file (`titanic-mlops predict --input`) --------------------------------
# The same rules as the API's request schema (serving/schemas.py reads the constants above), applied
# to the cells of a CSV as read (text), column by column, so a file of any size is checked in
# vectorised passes and a value the API refuses is never scored from a file either.

_INTEGERS: Final = (ID, "Pclass", "SibSp", "Parch")
SHOWN: Final = 5  # problems named in the one-line error; the rest are counted


@dataclass(frozen=True)
class BatchProblems:
    """The first problems of a batch by row and field, and how many there are in all."""

    shown: tuple[str, ...]
    total: int

    def __bool__(self) -> bool:
        return self.total > 0

    def line(self) -> str:
        rest = self.total - len(self.shown)
        return "; ".join(self.shown) + (f"; and {rest} more" if rest > 0 else "")


def batch_problems(frame: pd.DataFrame, first_row: int = 1) -> BatchProblems:
    """Every way `frame` (cells as text, as read) breaks the passenger contract, by row and field.

    Rows are numbered from `first_row` (1 = the first row after the header). PassengerId is
    required in a file: the submission is keyed by it. The label and extra columns are ignored.
    """
    missing = [column for column in RAW_DTYPES if column not in frame.columns]
    if missing:
        expected = ", ".join(RAW_DTYPES)
        return BatchProblems((f"missing column(s) {', '.join(missing)} (expected {expected})",), 1)
    found: list[tuple[int, int, str]] = []
    total = 0
    for order, column in enumerate(RAW_DTYPES):
        for mask, reason in _column_problems(column, frame[column]):
            rows = np.flatnonzero(mask.to_numpy(dtype=bool))
            total += len(rows)
            values = frame[column].to_numpy()
            for row in rows[:SHOWN]:
                shown = reason.format(value=str(values[row])[:20])
                found.append((int(row), order, f"row {first_row + int(row)} {column} {shown}"))
    found.sort()
    return BatchProblems(tuple(message for _, _, message in found[:SHOWN]), total)


def _column_problems(column: str, cells: pd.Series) -> list[tuple[pd.Series, str]]:
    """(mask of bad rows, reason) pairs for one column; `{value}` in a reason is the cell."""
    empty = cells.isna()
    checks = [(empty, "is empty (required)")] if column in REQUIRED_NON_NULL else []
    present = ~empty
    if column in _INTEGERS or column in BOUNDS:
        numbers = pd.to_numeric(cells, errors="coerce").astype("float64")
        number = present & numbers.notna()
        finite = number & np.isfinite(numbers)
        checks.append((present & numbers.isna(), "{value!r} is not a number"))
        checks.append((number & ~finite, "{value!r} is not a finite number"))
        if column in _INTEGERS:
            checks.append((finite & (numbers != numbers.round()), "{value!r} is not a whole number"))
        if column in ALLOWED_VALUES:
            allowed = ", ".join(map(str, ALLOWED_VALUES[column]))
            checks.append(
                (finite & ~numbers.isin(ALLOWED_VALUES[column]), "{value!r} is not one of " + allowed)
            )
        if column in BOUNDS:
            low, high = BOUNDS[column]
            checks.append(
                (finite & ((numbers < low) | (numbers > high)), f"{{value!r}} is outside [{low:g}, {high:g}]")
            )
    elif column in ALLOWED_VALUES:
        allowed = ", ".join(map(str, ALLOWED_VALUES[column]))
        checks.append((present & ~cells.isin(ALLOWED_VALUES[column]), "{value!r} is not one of " + allowed))
    else:
        checks.append((present & (cells.str.len() > MAX_TEXT), f"is longer than {MAX_TEXT} characters"))
    return checks
