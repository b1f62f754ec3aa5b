"""Counting an experiment's labelled rows: pure pandas, so the service only gathers the frames."""

from __future__ import annotations

import pandas as pd

from titanic_mlops.domain.experiment import ArmCounts, PairedCounts


def paired_counts(labelled: pd.DataFrame, shadow: pd.DataFrame) -> PairedCounts:
    """Champion rows joined to the challenger's shadow scores of the same predictions."""
    joined = labelled.merge(shadow, left_on="id", right_on="prediction_id", suffixes=("", "_shadow"))
    champion = joined["survived"].astype(int) == joined["label"].astype(int)
    challenger = joined["survived_shadow"].astype(int) == joined["label"].astype(int)
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
