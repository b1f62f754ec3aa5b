"""The named bad-input corpus: each gets a 4xx (never a 5xx) that names the field at fault."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSENGER

pytestmark = pytest.mark.slow


def passenger(**change: Any) -> dict[str, Any]:
    return {"instances": [{**PASSENGER, **change}]}


def without(field: str) -> dict[str, Any]:
    return {"instances": [{k: v for k, v in PASSENGER.items() if k != field}]}


# name -> (path, JSON body, expected status, the field the error must name)
CORPUS: dict[str, tuple[str, Any, int, str]] = {
    "no instances key": ("/predict", {}, 422, "instances"),
    "empty instances": ("/predict", {"instances": []}, 422, "instances"),
    "instances not a list": ("/predict", {"instances": {"Pclass": 1}}, 422, "instances"),
    "body is a list": ("/predict", [PASSENGER], 422, "body"),
    "unknown top-level field": ("/predict", {"instances": [PASSENGER], "model": "x"}, 422, "model"),
    "missing Pclass": ("/predict", without("Pclass"), 422, "instances.0.Pclass"),
    "Pclass zero": ("/predict", passenger(Pclass=0), 422, "instances.0.Pclass"),
    "Pclass four": ("/predict", passenger(Pclass=4), 422, "instances.0.Pclass"),
    "Pclass as text": ("/predict", passenger(Pclass="1"), 422, "instances.0.Pclass"),
    "Pclass fractional": ("/predict", passenger(Pclass=1.5), 422, "instances.0.Pclass"),
    "Pclass boolean": ("/predict", passenger(Pclass=True), 422, "instances.0.Pclass"),
    "unknown Sex": ("/predict", passenger(Sex="unknown"), 422, "instances.0.Sex"),
    "Sex capitalised": ("/predict", passenger(Sex="Male"), 422, "instances.0.Sex"),
    "missing Sex": ("/predict", without("Sex"), 422, "instances.0.Sex"),
    "negative Age": ("/predict", passenger(Age=-1), 422, "instances.0.Age"),
    "Age as text": ("/predict", passenger(Age="young"), 422, "instances.0.Age"),
    "Age absurd": ("/predict", passenger(Age=1000), 422, "instances.0.Age"),
    "negative Fare": ("/predict", passenger(Fare=-5.0), 422, "instances.0.Fare"),
    "Fare as text": ("/predict", passenger(Fare="7.25"), 422, "instances.0.Fare"),
    "unknown Embarked": ("/predict", passenger(Embarked="X"), 422, "instances.0.Embarked"),
    "Embarked lower case": ("/predict", passenger(Embarked="s"), 422, "instances.0.Embarked"),
    "fractional SibSp": ("/predict", passenger(SibSp=1.5), 422, "instances.0.SibSp"),
    "negative SibSp": ("/predict", passenger(SibSp=-1), 422, "instances.0.SibSp"),
    "Parch as text": ("/predict", passenger(Parch="2"), 422, "instances.0.Parch"),
    "missing Parch": ("/predict", without("Parch"), 422, "instances.0.Parch"),
    "missing Name": ("/predict", without("Name"), 422, "instances.0.Name"),
    "Name a number": ("/predict", passenger(Name=123), 422, "instances.0.Name"),
    "Ticket null": ("/predict", passenger(Ticket=None), 422, "instances.0.Ticket"),
    "Cabin a number": ("/predict", passenger(Cabin=5), 422, "instances.0.Cabin"),
    "label in the request": ("/predict", passenger(Survived=1), 422, "instances.0.Survived"),
    "PassengerId as text": ("/predict", passenger(PassengerId="abc"), 422, "instances.0.PassengerId"),
    "negative PassengerId": ("/predict", passenger(PassengerId=-3), 422, "instances.0.PassengerId"),
    "second passenger bad": (
        "/predict",
        {"instances": [PASSENGER, {**PASSENGER, "Age": -2}]},
        422,
        "instances.1.Age",
    ),
    "over the batch limit": ("/predict", {"instances": [PASSENGER] * 51}, 413, "instances"),
    "feedback label 2": ("/feedback", {"prediction_id": 1, "survived": 2}, 422, "survived"),
    "feedback without label": ("/feedback", {"prediction_id": 1}, 422, "survived"),
    "feedback with both targets": (
        "/feedback",
        {"prediction_id": 1, "passenger_id": 1, "survived": 1},
        422,
        "prediction_id",
    ),
    "feedback with neither target": ("/feedback", {"survived": 1}, 422, "passenger_id"),
    "feedback extra field": ("/feedback", {"prediction_id": 1, "survived": 1, "note": "x"}, 422, "note"),
}


def named_fields(response_json: Any) -> str:
    detail = response_json["detail"]
    if isinstance(detail, str):
        return detail
    return " ".join(f"{d['field']} {d['msg']}" for d in detail)


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_input_is_a_4xx_naming_the_field(client: TestClient, name: str) -> None:
    path, body, status, field = CORPUS[name]
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert field in named_fields(response.json()), response.text


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 25


@pytest.mark.parametrize(
    ("path", "field"),
    [("/passengers/abc/prediction", "passenger_id"), ("/passengers/0/prediction", "passenger_id")],
)
def test_bad_path_parameters_name_themselves(client: TestClient, path: str, field: str) -> None:
    response = client.get(path)
    assert response.status_code == 422 and field in named_fields(response.json())


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"instances": []', "application/json", 400),
        (b"not json at all", "application/json", 400),
        (b"Pclass=1&Sex=male", "application/x-www-form-urlencoded", 415),
        (b'{"instances": []}', "text/plain", 415),
        (b'{"instances": []}', None, 415),
        (b"\xff\xfe\x00", "application/json", 400),
    ],
)
def test_a_body_that_is_not_json_is_a_400_or_415(
    client: TestClient, content: bytes, content_type: str | None, status: int
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/predict", content=content, headers=headers)
    assert response.status_code == status, response.text


def test_nan_and_infinity_are_refused(client: TestClient) -> None:
    body = (
        b'{"instances": [{"Pclass": 3, "Name": "A, Mr. B", "Sex": "male", "SibSp": 0, "Parch": 0,'
        b' "Ticket": "1", "Age": NaN, "Fare": Infinity}]}'
    )
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "instances.0.Age" in named_fields(response.json()) and "instances.0.Fare" in named_fields(
        response.json()
    )
