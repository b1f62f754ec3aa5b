"""The one feature module: row derivations for training and serving, and the population features.

Row features need only the passenger's own record, so serving computes them from a request.
Population features (how many passengers share a ticket, the fare per person) need everyone,
so the feature stage computes them and Feast serves them by their key.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import numpy as np
import pandas as pd

from titanic_mlops import schema

NUMERIC: Final = (
    "pclass",
    "age",
    "sibsp",
    "parch",
    "fare",
    "family_size",
    "is_alone",
    "has_cabin",
    "ticket_group_size",
    "fare_per_person",
)
CATEGORICAL: Final = ("sex", "embarked", "title", "deck")
MODEL_FEATURES: Final = NUMERIC + CATEGORICAL
POPULATION: Final = ("ticket_group_size", "fare_per_person")
ENTITY: Final = "passenger_id"
TICKET: Final = "ticket"
EVENT_TIMESTAMP: Final = "event_timestamp"
UNKNOWN: Final = "U"

_TITLE = re.compile(r",\s*([^.]+)\.")
_TITLE_ALIASES: Final = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs", "Lady": "Mrs", "Dona": "Mrs"}
_COMMON_TITLES: Final = frozenset({"Mr", "Mrs", "Miss", "Master"})


def extract_title(name: str | None) -> str:
    """'Braund, Mr. Owen Harris' -> 'Mr'; titles outside the common four become 'Rare'."""
    if name is None or name != name:
        return UNKNOWN
    match = _TITLE.search(str(name))
    if not match:
        return UNKNOWN
    title = _TITLE_ALIASES.get(match.group(1).strip(), match.group(1).strip())
    return title if title in _COMMON_TITLES else "Rare"


def extract_deck(cabin: str | None) -> str:
    """The deck letter of the first cabin; 'U' when the cabin is unknown."""
    if cabin is None or cabin != cabin or not str(cabin).strip():
        return UNKNOWN
    letter = str(cabin).strip()[0].upper()
    return letter if letter.isalpha() else UNKNOWN


def add_row_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Everything one record can tell: raw columns renamed plus derived ones, keyed by id."""
    family = raw["SibSp"].astype("int64") + raw["Parch"].astype("int64") + 1
    cabin = raw["Cabin"].astype("object").where(raw["Cabin"].notna(), None)
    embarked = raw["Embarked"].astype("object").where(raw["Embarked"].notna(), None)
    return pd.DataFrame(
        {
            ENTITY: raw[schema.ID].astype("int64"),
            TICKET: raw["Ticket"].astype("object").astype(str),
            "pclass": raw["Pclass"].astype("int64"),
            "sex": raw["Sex"].astype("object").astype(str),
            "age": raw["Age"].astype("float64"),
            "sibsp": raw["SibSp"].astype("int64"),
            "parch": raw["Parch"].astype("int64"),
            "fare": raw["Fare"].astype("float64"),
            "embarked": [e if e in schema.ALLOWED_VALUES["Embarked"] else UNKNOWN for e in embarked],
            "title": [extract_title(n) for n in raw["Name"].astype("object")],
            "deck": [extract_deck(c) for c in cabin],
            "family_size": family.astype("int64"),
            "is_alone": (family == 1).astype("int64"),
            "has_cabin": raw["Cabin"].notna().astype("int64"),
        },
        index=raw.index,
    )


def ticket_group_sizes(tickets: pd.Series) -> pd.DataFrame:
    """How many known passengers travel on each ticket: the population the store serves."""
    counts = tickets.astype(str).value_counts(sort=False)
    return pd.DataFrame({TICKET: counts.index.astype(str), "ticket_group_size": counts.to_numpy()})


def add_population_features(rows: pd.DataFrame, group_sizes: pd.Series) -> pd.DataFrame:
    """Attach the ticket group size (1 for a ticket nobody else holds) and the fare per person.

    `group_sizes` is aligned with `rows`: the stage passes counts, serving passes store lookups.
    """
    size = pd.to_numeric(group_sizes, errors="coerce").fillna(1).clip(lower=1).astype("int64")
    out = rows.copy()
    out["ticket_group_size"] = size.to_numpy()
    out["fare_per_person"] = out["fare"].astype("float64") / out["ticket_group_size"]
    return out


def build_feature_table(passengers: pd.DataFrame, event_time: datetime) -> pd.DataFrame:
    """The Feast offline source: one row per known passenger, its full model vector."""
    rows = add_row_features(passengers)
    sizes = ticket_group_sizes(rows[TICKET]).set_index(TICKET)["ticket_group_size"]
    table = add_population_features(rows, rows[TICKET].map(sizes))
    table[EVENT_TIMESTAMP] = pd.Timestamp(event_time).tz_convert("UTC")
    return table.sort_values(ENTITY, kind="stable").reset_index(drop=True)


def build_ticket_table(feature_table: pd.DataFrame) -> pd.DataFrame:
    """The ticket view's source: the group size by ticket, for requests that carry a record."""
    table = ticket_group_sizes(feature_table[TICKET])
    table[EVENT_TIMESTAMP] = feature_table[EVENT_TIMESTAMP].iloc[0]
    return table.sort_values(TICKET, kind="stable").reset_index(drop=True)


def model_frame(features: pd.DataFrame) -> pd.DataFrame:
    """The exact frame the model takes: numerics as float64 (gaps allowed), categories as str."""
    frame = pd.DataFrame(index=features.index)
    for column in NUMERIC:
        frame[column] = pd.to_numeric(features[column], errors="coerce").astype("float64")
    for column in CATEGORICAL:
        values = features[column].astype("object")
        frame[column] = values.where(values.notna(), UNKNOWN).astype(str)
    return frame


def missing_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Model inputs that arrived empty, for the serving metrics."""
    return {str(c): int(n) for c, n in frame[list(NUMERIC)].isna().sum().items() if n}


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
