"""The Lambda handler answers API Gateway events with the same app."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.workspace import Workspace

PASSENGER = {
    "PassengerId": 893,
    "Pclass": 3,
    "Name": "Wilkes, Mrs. James (Ellen Needs)",
    "Sex": "female",
    "Age": 47.0,
    "SibSp": 1,
    "Parch": 0,
    "Ticket": "363272",
    "Fare": 7.0,
    "Cabin": None,
    "Embarked": "S",
}


def http_api_event(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as Lambda delivers it."""
    raw = json.dumps(body).encode() if body is not None else b""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795680000000,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
        },
        "body": base64.b64encode(raw).decode() if raw else "",
        "isBase64Encoded": bool(raw),
    }


@pytest.mark.slow
def test_lambda_handler_answers_health_and_a_predict_event(workspace_env: Workspace) -> None:
    from serving import lambda_handler

    health = lambda_handler.handler(http_api_event("GET", "/health"), None)
    assert health["statusCode"] == 200

    response = lambda_handler.handler(http_api_event("POST", "/predict", {"instances": [PASSENGER]}), None)
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    [answer] = body["predictions"]
    assert answer["passenger_id"] == 893
    assert answer["survived"] in (0, 1)
    assert 0.0 <= answer["probability"] <= 1.0
    assert body["model_version"]

    bad = lambda_handler.handler(
        http_api_event("POST", "/predict", {"instances": [{**PASSENGER, "Sex": "x"}]}), None
    )
    assert bad["statusCode"] == 422
    assert "Sex" in bad["body"]
