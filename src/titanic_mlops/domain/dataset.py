"""The labelled training frame: labels from the validated table, model inputs from the store."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from titanic_mlops.domain import features, schema


def labelled_entities(validated: pd.DataFrame, event_time: datetime) -> pd.DataFrame:
    """The entity frame Feast joins onto: id, event time, and the label and source to keep."""
    return pd.DataFrame(
        {
            features.ENTITY: validated[schema.ID].astype("int64").to_numpy(),
            features.EVENT_TIMESTAMP: pd.Timestamp(event_time).tz_convert("UTC"),
            schema.LABEL: validated[schema.LABEL].astype("int64").to_numpy(),
            schema.SOURCE: validated[schema.SOURCE].astype(str).to_numpy(),
        }
    )


def inputs_and_labels(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Model inputs and labels from a joined frame."""
    return features.coerce_inputs(frame), frame[schema.LABEL].astype("int64").to_numpy()
