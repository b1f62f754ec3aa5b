"""Request and response bodies: the API's contract, strict so a bad field names itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.config import JsonDict

from titanic_mlops.domain.schema import BOUNDS, EXAMPLE_PASSENGER, ID, MAX_TEXT

# The passenger contract's bounds (domain.schema), shared with validation and batch scoring.
MIN_AGE, MAX_AGE = BOUNDS["Age"]
MIN_FARE, MAX_FARE = BOUNDS["Fare"]
MAX_SIBSP, MAX_PARCH = int(BOUNDS["SibSp"][1]), int(BOUNDS["Parch"][1])
MAX_ID = int(BOUNDS[ID][1])


def _utf8(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid UTF-8 text") from exc
    return value


def _whole(value: object) -> object:
    """JSON does not tell 2 from 2.0: a whole float is an integer, 2.5 and "2" stay errors."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Text = Annotated[str, Field(strict=True, max_length=MAX_TEXT), AfterValidator(_utf8)]
SibSp = Annotated[int, Field(strict=True, ge=0, le=MAX_SIBSP), BeforeValidator(_whole)]
Parch = Annotated[int, Field(strict=True, ge=0, le=MAX_PARCH), BeforeValidator(_whole)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID), BeforeValidator(_whole)]


class Passenger(BaseModel):
    """One passenger in Kaggle column names; PassengerId is optional, and so are the gaps."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [cast(JsonDict, dict(EXAMPLE_PASSENGER))]},
    )

    PassengerId: Id | None = None
    Pclass: Annotated[int, Field(strict=True, ge=1, le=3), BeforeValidator(_whole)]
    Name: Text
    Sex: Literal["male", "female"]
    Age: Annotated[float, Field(strict=True, ge=MIN_AGE, le=MAX_AGE, allow_inf_nan=False)] | None = None
    SibSp: SibSp
    Parch: Parch
    Ticket: Text
    Fare: Annotated[float, Field(strict=True, ge=MIN_FARE, le=MAX_FARE, allow_inf_nan=False)] | None = None
    Cabin: Text | None = None
    Embarked: Literal["C", "Q", "S"] | None = None


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[Passenger] = Field(min_length=1)


class Prediction(BaseModel):
    passenger_id: int | None
    survived: Literal[0, 1]
    probability: float
    prediction_id: int
    model_version: str | None = None  # which version answered, while an experiment runs
    anomaly_score: float | None = Field(description="the outlier detector's score, ~0.5 ordinary")
    anomalous: bool | None = Field(description="unlike the training passengers (None: no detector)")


class PredictResponse(BaseModel):
    model_name: str
    model_version: str
    predictions: list[Prediction]


class Explanation(BaseModel):
    passenger_id: int | None
    probability: float
    base_value: float
    space: Literal["logit", "probability"]
    contributions: dict[str, float]


class ExplainResponse(BaseModel):
    model_version: str
    explanations: list[Explanation]


class FeedbackByPrediction(BaseModel):
    """Ground truth for the prediction with this id (the id /predict answered)."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: Id
    survived: Annotated[int, Field(strict=True, ge=0, le=1), BeforeValidator(_whole)]


class FeedbackByPassenger(BaseModel):
    """Ground truth for the latest prediction logged for this PassengerId."""

    model_config = ConfigDict(extra="forbid")

    passenger_id: Id
    survived: Annotated[int, Field(strict=True, ge=0, le=1), BeforeValidator(_whole)]


Feedback = FeedbackByPrediction | FeedbackByPassenger
FeedbackBatch = Annotated[list[Feedback], Field(min_length=1)]


class FeedbackResponse(BaseModel):
    accepted: int
    prediction_ids: list[int]
    missing: list[int] = Field(description="positions in the batch that matched no logged prediction")


class PassengerPrediction(BaseModel):
    model_name: str
    model_version: str
    passenger_id: int
    survived: Literal[0, 1]
    probability: float
    prediction_id: int
    anomaly_score: float | None
    anomalous: bool | None
    features: dict[str, float | str | None]


class ModelInfo(BaseModel):
    name: str
    version: str
    run_id: str
    engine: str
    loaded_at: float
    metrics: dict[str, float]
    lineage: dict[str, str]
    aliases: list[str]
    refused: dict[str, str | float] | None = None
    # The online experiment: mode, canary_share, the challenger's name/version/run/engine, dropped.
    experiment: dict[str, Any] | None = None


class Status(BaseModel):
    status: str
    model_version: str | None = None
    online_store: str | None = None  # /ready: "ok", or why group sizes now default


class ReloadResponse(BaseModel):
    result: Literal["swapped", "unchanged", "refused"]
    model_version: str | None
    reason: str | None = None
