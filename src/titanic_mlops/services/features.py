"""Stage `features`: the feature tables (the Feast offline sources), then `feast apply` and materialize.

Every known passenger (the labelled table and the unlabelled test file) gets its model inputs;
the ticket group sizes count the original snapshot's passengers only (labelled and unlabelled),
never feedback rows, so a snapshot passenger's inputs never change after feedback arrives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops import atomic
from titanic_mlops.adapters import feast_store
from titanic_mlops.config.layout import PASSENGERS, TICKETS
from titanic_mlops.domain import features, schema
from titanic_mlops.domain.params import Params
from titanic_mlops.services.ingest import read_raw_csv


def run(validated: Path, test: Path, out_dir: Path, store: Any, params: Params) -> pd.DataFrame:
    labelled = pd.read_parquet(validated)
    unlabelled = read_raw_csv(test, labelled=False)
    snapshot = labelled[labelled[schema.SOURCE] == schema.SOURCE_SNAPSHOT]
    passengers = pd.concat([labelled.drop(columns=[schema.LABEL, schema.SOURCE]), unlabelled])
    population = pd.concat([snapshot["Ticket"], unlabelled["Ticket"]])
    table = features.build_feature_table(passengers, params.features.event_timestamp, population)
    atomic.write_parquet(out_dir / PASSENGERS.name, table)
    atomic.write_parquet(out_dir / TICKETS.name, features.build_ticket_table(table))
    feast_store.apply_and_materialize(store, params.features.event_timestamp)
    return table
