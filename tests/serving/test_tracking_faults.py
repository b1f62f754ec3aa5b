"""A tracking server that does not answer: the probe fails fast, polls say "error", nothing is refused.

Offline: a dead port or a tiny local HTTP server stands in for MLflow. The whole outage against a
real MLflow server (stop, restart, follow) is tests/services/test_tracking_outage.py.
"""

from __future__ import annotations

import http.server
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from mlflow.exceptions import MlflowException

from tests.support.net import free_port
from titanic_mlops.adapters.mlflow.registry import Registry, TrackingUnavailable, unavailable
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services.served_model import AliasFollower

from .conftest import ADMIN_TOKEN, PASSENGER, ServingState


def wrapped(cause: BaseException) -> MlflowException:
    """What mlflow's http_request raises: an MlflowException raised while handling `cause`."""
    try:
        raise cause
    except BaseException:
        try:
            raise MlflowException("API request to http://x failed with exception ...")
        except MlflowException as exc:
            return exc
    raise AssertionError("unreachable")


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status}", response=response)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (wrapped(requests.ConnectionError("refused")), True),
        (wrapped(requests.Timeout("slow")), True),
        (wrapped(requests.exceptions.RetryError("too many 500 error responses")), True),
        (wrapped(http_error(503)), True),
        (wrapped(http_error(429)), True),
        (TrackingUnavailable("down"), True),
        (wrapped(http_error(404)), False),
        (
            MlflowException("Registered Model with name=x not found", error_code="RESOURCE_DOES_NOT_EXIST"),
            False,
        ),
        (ValueError("bad bytes"), False),
    ],
)
def test_only_a_server_that_gave_no_answer_counts_as_unavailable(exc: BaseException, expected: bool) -> None:
    assert unavailable(exc) is expected


class CountingServer:
    """Answers every request with one status and counts the requests."""

    def __init__(self, status: int) -> None:
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_probe_asks_once_and_fails_on_a_server_error() -> None:
    with CountingServer(503) as server:
        registry = Registry(server.url, "unused", "m", probe_timeout=2)
        with pytest.raises(TrackingUnavailable, match="answered HTTP 503"):
            registry.probe()
        assert server.hits == 1  # no retry, no backoff (MLflow's client would retry 7 times)


def test_the_probe_takes_any_answer_below_500_as_alive() -> None:
    with CountingServer(404) as server:
        Registry(server.url, "unused", "m", probe_timeout=2).probe()
        assert server.hits == 1


def test_the_probe_fails_on_a_dead_port() -> None:
    with pytest.raises(TrackingUnavailable, match="does not answer"):
        Registry(f"http://127.0.0.1:{free_port()}", "unused", "m", probe_timeout=2).probe()


def test_the_probe_gives_up_on_a_server_that_accepts_and_never_answers() -> None:
    """A hung server (or a partition): MLflow's client would wait 120 s per attempt, 8 attempts."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        registry = Registry(f"http://127.0.0.1:{hung.getsockname()[1]}", "unused", "m", probe_timeout=0.5)
        with pytest.raises(TrackingUnavailable, match=r"(?i)timed? ?out"):
            registry.probe()


def test_without_a_probe_timeout_the_registry_never_probes() -> None:
    with CountingServer(503) as server:
        Registry(server.url, "unused", "m").probe()  # training and the gate: MLflow's own retries
        Registry("sqlite:///unused.db", "unused", "m", probe_timeout=2).probe()
        assert server.hits == 0


class FlakyRegistry(Registry):
    """A registry whose server is `down` (the probe fails) or `dies` while a version loads."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1", "unused", "m", probe_timeout=1)
        self.mode = "down"

    def probe(self) -> None:
        if self.mode == "down":
            raise TrackingUnavailable("tracking server http://127.0.0.1:1 does not answer: refused")

    def alias(self, alias: str) -> ModelRef | None:
        return ModelRef("m", "7", "run")

    def describe(self, ref: ModelRef) -> dict[str, Any]:
        raise wrapped(requests.ConnectionError("connection refused"))


def test_an_outage_is_an_error_logged_once_and_never_a_refusal(caplog: pytest.LogCaptureFixture) -> None:
    registry = FlakyRegistry()
    follower = AliasFollower(registry, "onnx")
    with caplog.at_level(logging.DEBUG, logger="titanic_mlops.services.served_model"):
        assert [follower.follow(None).result for _ in range(3)] == ["error"] * 3
        registry.mode = "dies"  # the probe passes, then the download fails on the connection
        assert follower.follow(None).result == "error"
        followed = follower.follow(None, force=True)
    assert (followed.result, followed.model) == ("error", None)
    assert follower.refused is None, "a version must not be refused because the server was down"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "tracking server unavailable" in warnings[0].getMessage()
    assert warnings[0].exc_info is None  # one line, no traceback
    assert follower.unavailable_since is not None


def test_the_end_of_an_outage_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Recovering(FlakyRegistry):
        def alias(self, alias: str) -> ModelRef | None:
            return None  # back, and no champion yet

    registry = Recovering()
    follower = AliasFollower(registry, "onnx")
    assert follower.follow(None).result == "error"
    registry.mode = "up"
    with caplog.at_level(logging.INFO, logger="titanic_mlops.services.served_model"):
        assert follower.follow(None).result == "unchanged"
    assert follower.unavailable_since is None
    assert any("answers again" in r.getMessage() for r in caplog.records)


@pytest.fixture
def dead_tracking_app(serving_state: ServingState, tmp_path: Any) -> Iterator[TestClient]:
    """The API on a real feature store, its tracking URI a port where nothing listens."""
    from serving.app import create_app

    settings = serving_state.settings(
        tracking_uri=f"http://127.0.0.1:{free_port()}",
        prediction_log_url=f"sqlite:///{tmp_path / 'predictions.db'}",
        reload_interval_seconds=0.2,
        tracking_probe_timeout_seconds=1,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def error_polls(client: TestClient) -> float:
    text = client.get("/metrics").text
    found = re.search(r'^titanic_model_reloads_total\{result="error"\} (\S+)$', text, re.MULTILINE)
    assert found is not None, "the error result is exported from the start"
    return float(found.group(1))


def test_an_api_without_a_tracking_server_is_alive_not_ready_and_counts_errors(
    dead_tracking_app: TestClient,
) -> None:
    client = dead_tracking_app
    # a difference: other apps in this process may share the counter (Feast sets PROMETHEUS_MULTIPROC_DIR)
    wanted, deadline = error_polls(client) + 3, time.monotonic() + 120
    while error_polls(client) < wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert error_polls(client) >= wanted, "each poll ends quickly, as an error"
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "loading"
    assert client.post("/predict", json={"instances": [PASSENGER]}).status_code == 503


def test_an_admin_reload_during_an_outage_answers_503_with_the_reason(dead_tracking_app: TestClient) -> None:
    answer = dead_tracking_app.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert answer.status_code == 503, answer.text
    assert "tracking server does not answer" in answer.json()["detail"]
    assert "no model is loaded" in answer.json()["detail"]
    assert answer.headers["Retry-After"] == "5"
