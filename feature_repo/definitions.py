"""Feast definitions only: the feature logic lives in titanic_mlops.domain.features.

The data is a static snapshot stamped with one fixed event time, so the views have no TTL
(`ttl=timedelta(0)` means the values never expire); see docs/pipeline.md.
"""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64, String

passenger = Entity(
    name="passenger",
    join_keys=["passenger_id"],
    value_type=ValueType.INT64,
    description="One traveller, keyed by the Kaggle PassengerId.",
)
ticket = Entity(
    name="ticket",
    join_keys=["ticket"],
    value_type=ValueType.STRING,
    description="A ticket, shared by everyone who travelled on it.",
)

passenger_source = FileSource(
    name="passenger_features_source",
    path="../data/features/passengers.parquet",
    timestamp_field="event_timestamp",
)
ticket_source = FileSource(
    name="ticket_features_source",
    path="../data/features/tickets.parquet",
    timestamp_field="event_timestamp",
)

passenger_features = FeatureView(
    name="passenger_features",
    entities=[passenger],
    ttl=timedelta(0),
    schema=[
        Field(name="pclass", dtype=Int64),
        Field(name="age", dtype=Float64),
        Field(name="sibsp", dtype=Int64),
        Field(name="parch", dtype=Int64),
        Field(name="fare", dtype=Float64),
        Field(name="family_size", dtype=Int64),
        Field(name="is_alone", dtype=Int64),
        Field(name="has_cabin", dtype=Int64),
        Field(name="ticket_group_size", dtype=Int64),
        Field(name="fare_per_person", dtype=Float64),
        Field(name="sex", dtype=String),
        Field(name="embarked", dtype=String),
        Field(name="title", dtype=String),
        Field(name="deck", dtype=String),
        Field(name="wcg_group", dtype=String),
    ],
    source=passenger_source,
    online=True,
    tags={"owner": "titanic-mlops", "logic": "titanic_mlops.domain.features"},
)

ticket_features = FeatureView(
    name="ticket_features",
    entities=[ticket],
    ttl=timedelta(0),
    schema=[Field(name="ticket_group_size", dtype=Int64)],
    source=ticket_source,
    online=True,
    tags={"owner": "titanic-mlops", "logic": "titanic_mlops.domain.features"},
)

titanic_model_v1 = FeatureService(
    name="titanic_model_v1",
    features=[passenger_features],
    description="The model's input vector; training reads it offline, serving online.",
)
