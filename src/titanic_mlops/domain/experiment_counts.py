"""Counting an experiment's labelled rows: pure pandas, so the service only gathers the frames."""

from __future__ import annotations

import pandas as pd

from titanic_mlops.domain.experiment import ArmCounts, PairedCounts

ARMS = ("champion", "challenger")
LABEL = "label"


def arm_columns(arm: str) -> tuple[str, str]:
    """The pairs frame's (prediction, probability) columns of one arm."""
    return f"{arm}_prediction", f"{arm}_probability"


def shadow_pairs(labelled: pd.DataFrame, shadow: pd.DataFrame) -> pd.DataFrame:
    """Champion rows joined to the challenger's shadow scores of the same predictions: one row per
    labelled passenger with `label` and each arm's columns (`arm_columns`), what the paired test
    counts and the arms report shows."""
    joined = labelled.merge(shadow, left_on="id", right_on="prediction_id", suffixes=("", "_shadow"))
    champion, challenger = arm_columns("champion"), arm_columns("challenger")
    return pd.DataFrame(
        {
            "prediction_id": joined["id"].astype(int),
            LABEL: joined["label"].astype(int),
            champion[0]: joined["survived"].astype(int),
            champion[1]: joined["probability"].astype(float),
            challenger[0]: joined["survived_shadow"].astype(int),
            challenger[1]: joined["probability_shadow"].astype(float),
        }
    )


def paired_counts(pairs: pd.DataFrame) -> PairedCounts:
    """The 2x2 of correctness over `shadow_pairs`."""
    champion = pairs[arm_columns("champion")[0]] == pairs[LABEL]
    challenger = pairs[arm_columns("challenger")[0]] == pairs[LABEL]
    return PairedCounts(
        both_right=int((champion & challenger).sum()),
        champion_only=int((champion & ~challenger).sum()),
        challenger_only=int((~champion & challenger).sum()),
        both_wrong=int((~champion & ~challenger).sum()),
    )


def arm_counts(labelled: pd.DataFrame, champion: str, challenger: str) -> ArmCounts:
    """Canary: each labelled row counted for the version that answered it."""
    version = labelled["model_version"].astype(str)
    right = labelled["survived"].astype(int) == labelled["label"].astype(int)
    return ArmCounts(
        champion_rows=int((version == champion).sum()),
        champion_right=int((right & (version == champion)).sum()),
        challenger_rows=int((version == challenger).sum()),
        challenger_right=int((right & (version == challenger)).sum()),
    )
