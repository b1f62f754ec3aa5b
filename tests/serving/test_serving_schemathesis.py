"""Schemathesis against the live app's own OpenAPI schema: every default check, never a 5xx.

Driven through schemathesis' Python API and Hypothesis directly: its lazy pytest loader
(`schemathesis.pytest.from_fixture`) does not run under pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import LiveServer, ServingState

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 100


@pytest.fixture(scope="module")
def live(serving_state: ServingState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    with LiveServer(
        serving_state, tmp, TITANIC_MLOPS_PREDICTION_LOG_URL=f"sqlite:///{tmp / 'log.db'}"
    ) as server:
        yield server


def test_generated_requests_pass_every_check(live: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /predict",
        "GET /passengers/{passenger_id}/prediction",
        "POST /feedback",
        "POST /admin/reload",
    }
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=live.url, timeout=30)

        check()
    assert "Traceback" not in live.log_text()
