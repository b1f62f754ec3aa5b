"""The frames monitoring compares: the training reference and a window of the prediction log."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from titanic_mlops.domain import features, schema

LOGGED_PREFIX: Final = "f_"
# Column names of the monitored frames beside the model inputs.
PROBABILITY: Final = "probability"
PREDICTION: Final = "prediction"
LABEL: Final = "label"


def reference_frame(validated: pd.DataFrame, passengers: pd.DataFrame) -> pd.DataFrame:
    """Model inputs + label of every training passenger (the Feast offline source joined on id)."""
    labels = validated[[schema.ID, schema.LABEL]].rename(columns={schema.ID: features.ENTITY})
    joined = passengers.merge(labels, on=features.ENTITY, how="inner", validate="one_to_one")
    if len(joined) != len(validated):
        raise ValueError(
            f"the feature source holds {len(joined)} of the {len(validated)} training passengers; "
            "run the features stage again"
        )
    frame = features.coerce_inputs(joined)
    frame[LABEL] = joined[schema.LABEL].astype("int64").to_numpy()
    return frame


def with_probability(reference: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    return reference.assign(**{PROBABILITY: np.asarray(probability, dtype=np.float64)})


def current_frame(window: pd.DataFrame) -> pd.DataFrame:
    """The logged model inputs of a window (`PredictionLog.window()`), plus the served probability."""
    logged = {c: c.removeprefix(LOGGED_PREFIX) for c in window.columns if c.startswith(LOGGED_PREFIX)}
    missing = [c for c in features.MODEL_INPUTS if LOGGED_PREFIX + c not in logged]
    if missing:
        raise ValueError(f"the prediction log lacks model inputs {missing}")
    frame = features.coerce_inputs(window[list(logged)].rename(columns=logged))
    frame[PROBABILITY] = window["probability"].astype("float64").to_numpy()
    return frame.reset_index(drop=True)


def labelled_frame(labelled: pd.DataFrame) -> pd.DataFrame:
    """Served prediction, probability and ground truth of the labelled rows."""
    return pd.DataFrame(
        {
            LABEL: labelled["label"].astype("int64").to_numpy(),
            PREDICTION: labelled["survived"].astype("int64").to_numpy(),
            PROBABILITY: labelled["probability"].astype("float64").to_numpy(),
        }
    )
