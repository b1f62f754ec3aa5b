"""The one feature implementation: raw passenger columns -> the model inputs, for any number of rows.

Every path calls the same column-wise functions: the feature stage feeds them a DataFrame's
columns (`frame_columns`), the API feeds them the columns of a request's records
(`records_columns`), batch scoring feeds them a chunk. Row features need only the passenger's own
record; population features (how many passengers share a ticket, the fare per person) need
everyone, so the feature stage counts them and Feast serves the group size by ticket.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from titanic_mlops.domain import schema
from titanic_mlops.domain.coded import Coded, joined

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
# Group keys: strings the fitted model looks up (not one-hot encoded). `wcg_group` names the
# passenger's woman-child group; the model learns the group's survival from training labels.
KEYS: Final = ("wcg_group",)
MODEL_INPUTS: Final = NUMERIC + CATEGORICAL + KEYS
# What drift monitoring compares: every input but the keys (an id-like string drifts by design).
MONITORED: Final = NUMERIC + CATEGORICAL
POPULATION: Final = ("ticket_group_size", "fare_per_person")
NO_GROUP: Final = ""
# The raw columns the model inputs are derived from (PassengerId only keys them).
RAW_INPUTS: Final = ("Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked")
# Columns Feast stores as Int64 (the model reads every numeric input as float64).
INTEGER: Final = ("pclass", "sibsp", "parch", "family_size", "is_alone", "has_cabin", "ticket_group_size")
ENTITY: Final = "passenger_id"
TICKET: Final = "ticket"
EVENT_TIMESTAMP: Final = "event_timestamp"
UNKNOWN: Final = "U"

# One array per column: float64 for numeric inputs (NaN for a gap), object (str) for categories.
Columns = dict[str, np.ndarray]
# Raw columns by Kaggle name; numbers may carry None/NaN gaps, text None.
RawColumns = Mapping[str, Sequence[Any] | np.ndarray]

_TITLE = re.compile(r",\s*([^.]+)\.")
_TITLE_ALIASES: Final = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs", "Lady": "Mrs", "Dona": "Mrs"}
_COMMON_TITLES: Final = frozenset({"Mr", "Mrs", "Miss", "Master"})
_PORTS: Final = frozenset(str(v) for v in schema.ALLOWED_VALUES["Embarked"])


def extract_title(name: str | None) -> str:
    """'Braund, Mr. Owen Harris' -> 'Mr'; titles outside the common four become 'Rare'."""
    if not isinstance(name, str):
        return UNKNOWN
    match = _TITLE.search(name)
    if not match:
        return UNKNOWN
    title = _TITLE_ALIASES.get(match.group(1).strip(), match.group(1).strip())
    return title if title in _COMMON_TITLES else "Rare"


def extract_deck(cabin: str | None) -> str:
    """The deck letter of the first cabin; 'U' when the cabin is unknown."""
    if not isinstance(cabin, str) or not cabin.strip():
        return UNKNOWN
    letter = cabin.strip()[0].upper()
    return letter if letter.isalpha() else UNKNOWN


def woman_child_groups(
    raw: RawColumns, coded: Mapping[str, Coded], pclass: np.ndarray, fare: np.ndarray
) -> np.ndarray:
    """The woman-child group key of every row: surname, class, ticket but its last digit, fare
    and port.

    Women and boys (title Master) travelling together lived or died together far more than
    class and sex alone tell; men belong to no group (`NO_GROUP`). The key uses only the
    passenger's own record, so every path computes it the same way. `coded` holds the columns
    `row_features` already coded (Name, Sex, title, port) and `pclass`/`fare` the numbers it
    parsed, so nothing is computed twice. Built
    only for the women and boys (about two fifths of passengers), each part once per distinct
    value and each key once per distinct combination of parts: batch scoring spent most of its
    time here when every member's key was joined in Python.
    """
    name = coded["Name"]
    women_and_boys = coded["Sex"].equals("female") | coded["title"].equals("Master")
    members = np.flatnonzero(women_and_boys & name.present())
    groups = np.full(len(women_and_boys), NO_GROUP, dtype=object)
    if not len(members):
        return groups  # men only (most single requests)
    parts = (
        name.rows(members).map(_surname),
        Coded.of(pclass[members]).map(_class_text),
        Coded.of(np.asarray(raw["Ticket"], dtype=object)[members]).map(_ticket_stem),
        Coded.of(fare[members]).map(_fare_text),
        coded["port"].rows(members),
    )
    groups[members] = joined(parts)
    return groups


def _surname(name: str | None) -> str:
    return name.split(",", 1)[0].strip().lower() if isinstance(name, str) else ""


def _class_text(pclass: float | None) -> str:
    return "" if pclass is None or math.isnan(pclass) else str(int(pclass))


def _ticket_stem(ticket: str | None) -> str:
    return ticket.strip()[:-1] if isinstance(ticket, str) else ""


def _fare_text(fare: float | None) -> str:
    return "" if fare is None or math.isnan(fare) else f"{fare:.2f}"


def _port(embarked: str | None) -> str:
    return embarked if isinstance(embarked, str) and embarked in _PORTS else UNKNOWN


def row_features(raw: RawColumns) -> Columns:
    """Everything the passengers' own records tell: the model inputs but the population ones."""
    sibsp, parch = _floats(raw["SibSp"]), _floats(raw["Parch"])
    family = sibsp + parch + 1.0
    coded = {column: Coded.of(raw[column]) for column in ("Name", "Sex", "Cabin")}
    coded["title"] = coded["Name"].map(extract_title)
    coded["port"] = Coded.of(raw["Embarked"]).map(_port)
    cabin = coded["Cabin"]
    pclass, fare = _floats(raw["Pclass"]), _floats(raw["Fare"])
    return {
        "pclass": pclass,
        "age": _floats(raw["Age"]),
        "sibsp": sibsp,
        "parch": parch,
        "fare": fare,
        "family_size": family,
        "is_alone": (family == 1.0).astype(np.float64),
        "has_cabin": cabin.present().astype(np.float64),
        "sex": coded["Sex"].map(str).array(),
        "embarked": coded["port"].array(),
        "title": coded["title"].array(),
        "deck": cabin.map(extract_deck).array(),
        "wcg_group": woman_child_groups(raw, coded, pclass, fare),
    }


def with_population(rows: Columns, group_sizes: Sequence[float | None] | np.ndarray) -> Columns:
    """Attach the ticket group size (1 for a ticket nobody else holds) and the fare per person."""
    given = _floats(group_sizes)
    size = np.trunc(np.maximum(np.where(np.isnan(given), 1.0, given), 1.0))
    return {**rows, "ticket_group_size": size, "fare_per_person": rows["fare"] / size}


def model_inputs(raw: RawColumns, group_sizes: Sequence[float | None] | np.ndarray) -> Columns:
    """The model inputs, in `MODEL_INPUTS` order, from raw columns and the ticket group sizes."""
    derived = with_population(row_features(raw), group_sizes)
    return {name: derived[name] for name in MODEL_INPUTS}


def records_columns(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Request records (Kaggle names) as raw columns; an absent key is a gap."""
    return {column: [record.get(column) for record in records] for column in RAW_INPUTS}


def frame_columns(raw: pd.DataFrame) -> dict[str, np.ndarray]:
    """A typed raw table's columns as arrays: floats with NaN gaps, text with None gaps."""
    columns: dict[str, np.ndarray] = {}
    for column in RAW_INPUTS:
        values = raw[column]
        if schema.RAW_DTYPES[column] == "string":
            objects = values.astype("object").to_numpy()
            objects[_gaps(objects)] = None
            columns[column] = objects
        else:
            columns[column] = pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return columns


def _gaps(objects: np.ndarray) -> np.ndarray:
    """Where a text column is empty. The parser's gaps are NaN, the one value unequal to itself,
    found in half the time `pd.isna` takes; a StringDtype column's pd.NA has no truth value."""
    try:
        return np.asarray(objects != objects, dtype=bool)
    except TypeError:
        return np.asarray(pd.isna(objects), dtype=bool)


def inputs_frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The exact frame the fitted pipeline takes, from model input columns."""
    return pd.DataFrame({name: columns[name] for name in MODEL_INPUTS})


def coerce_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """Model inputs read back from a store (Feast, the prediction log): float64 numerics, str categories."""
    out = pd.DataFrame(index=frame.index)
    for column in NUMERIC:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in CATEGORICAL:
        values = frame[column].astype("object")
        out[column] = values.where(values.notna(), UNKNOWN).astype(str)
    for column in KEYS:
        values = frame[column].astype("object")
        out[column] = values.where(values.notna(), NO_GROUP).astype(str)
    return out


def input_rows(columns: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """One plain dict per row (what the prediction log stores); NaN stays NaN."""
    names = list(MODEL_INPUTS)
    values = [columns[name].tolist() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def missing_counts(columns: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Numeric model inputs that arrived empty, by input (for the serving metrics)."""
    if not np.isnan(np.concatenate([columns[name] for name in NUMERIC])).any():
        return {}  # the common case, in one pass
    counts = {name: int(np.count_nonzero(np.isnan(columns[name]))) for name in NUMERIC}
    return {name: n for name, n in counts.items() if n}


def ticket_group_sizes(tickets: pd.Series) -> pd.DataFrame:
    """How many known passengers travel on each ticket: the population the store serves."""
    counts = tickets.astype(str).value_counts(sort=False)
    return pd.DataFrame({TICKET: counts.index.astype(str), "ticket_group_size": counts.to_numpy()})


def build_feature_table(
    passengers: pd.DataFrame, event_time: datetime, population: pd.Series | None = None
) -> pd.DataFrame:
    """The Feast offline source: one row per known passenger, its model inputs, keyed by id.

    `population` holds the tickets the group sizes are counted over (default: every passenger's).
    The feature stage passes the original snapshot's tickets only, so feedback passengers never
    change a snapshot passenger's inputs: the holdout stays frozen and the monitoring reference
    does not drift by construction.
    """
    raw = frame_columns(passengers)
    tickets = pd.Series(raw["Ticket"], dtype=object).astype(str)
    counted = tickets if population is None else population.astype(str)
    sizes = ticket_group_sizes(counted).set_index(TICKET)["ticket_group_size"]
    inputs = model_inputs(raw, tickets.map(sizes).to_numpy(np.float64))
    table = pd.DataFrame(
        {
            ENTITY: passengers[schema.ID].astype("int64").to_numpy(),
            TICKET: tickets.to_numpy(),
            **{name: inputs[name] for name in MODEL_INPUTS},
        }
    )
    table = table.astype(dict.fromkeys(INTEGER, "int64"))
    table[EVENT_TIMESTAMP] = pd.Timestamp(event_time).tz_convert("UTC")
    return table.sort_values(ENTITY, kind="stable").reset_index(drop=True)


def build_ticket_table(feature_table: pd.DataFrame) -> pd.DataFrame:
    """The ticket view's source: each ticket's group size exactly as the passenger table holds it."""
    table = feature_table[[TICKET, "ticket_group_size"]].drop_duplicates(TICKET).copy()
    table[EVENT_TIMESTAMP] = feature_table[EVENT_TIMESTAMP].iloc[0]
    return table.sort_values(TICKET, kind="stable").reset_index(drop=True)


def _floats(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float64, copy=False)
    return np.array([np.nan if v is None or v is pd.NA else v for v in values], dtype=np.float64)
