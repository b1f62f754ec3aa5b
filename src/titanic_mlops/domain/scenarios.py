"""The production worlds `titanic-mlops simulate` can send: data, in one place, easy to extend.

A scenario resamples the labelled snapshot (train.csv) and then changes it:
- `weights`: resampling weight per value of a raw column (who travels more or less often),
- `shift` / `scale`: added to / multiplied into a numeric raw column (ages, fares),
- `region`: a share (`fraction`) of the passengers matching `where` is moved into a region of
  the feature space (uniform draws per column) and given a label by a rule: the world's ground
  truth there changes.
Rows outside a region keep their original ground truth.

`concept` is a labelled world where a retrained model really does better: second- and
third-class men aged 81 to 95 (older than anyone in the snapshot, so the old world's holdout
never meets them) all survive, while the champion, having learned that such men die, predicts
them dead. A model trained
on that feedback learns the new region and keeps the old world intact, so the gate promotes it.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

SCENARIOS: Final[dict[str, dict[str, Any]]] = {
    "none": {
        "description": "production follows the training distribution; ground truth unchanged",
    },
    "covariate": {
        "description": (
            "who travels changes, who survives does not: more third class, many more Queenstown "
            "boardings, younger passengers, fares up 80%"
        ),
        "weights": {
            "Pclass": {"1": 0.3, "2": 0.5, "3": 3.0},
            "Embarked": {"Q": 10.0, "C": 0.6, "S": 0.5},
        },
        "shift": {"Age": -10.0},
        "scale": {"Fare": 1.8},
    },
    "concept": {
        "description": (
            "the silver voyage: 90% of the second- and third-class men are 81-95 years old and, "
            "given lifeboat priority, every one of them survives (the snapshot's oldest passenger "
            "is 80); everyone else keeps the old ground truth"
        ),
        "region": {
            "where": {"Sex": ["male"], "Pclass": ["2", "3"]},
            "fraction": 0.9,
            "uniform": {"Age": [81.0, 95.0]},
            "survived": 1,
        },
    },
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Frozen):
    where: dict[str, list[str]] = Field(default_factory=dict)
    fraction: float = Field(gt=0.0, le=1.0)
    uniform: dict[str, tuple[float, float]]
    survived: int = Field(ge=0, le=1)


class Scenario(_Frozen):
    name: str
    description: str
    weights: dict[str, dict[str, float]] = Field(default_factory=dict)
    shift: dict[str, float] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)
    region: Region | None = None


def names() -> list[str]:
    return list(SCENARIOS)


def get(name: str) -> Scenario:
    """The named scenario, validated; an unknown name lists the known ones."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return Scenario.model_validate({"name": name, **SCENARIOS[name]})
