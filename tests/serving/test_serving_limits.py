"""Limits at the edge: no host-built redirect, bodies and headers refused before parsing, small errors."""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from uvicorn.protocols.http.h11_impl import H11Protocol

from serving.limits import server_options
from titanic_mlops.config.settings import Settings

from .conftest import PASSENGER, LiveServer, ServingState


def test_a_trailing_slash_never_redirects_to_the_host_header(client: TestClient) -> None:
    response = client.get("/health/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers


def test_a_declared_oversized_body_is_refused_unread(client: TestClient) -> None:
    response = client.post(
        "/predict", content=b"{", headers={"Content-Type": "application/json", "Content-Length": "52428800"}
    )
    assert response.status_code == 413
    assert "52428800 bytes" in response.json()["detail"]


def test_a_chunked_oversized_body_is_refused_while_reading(client: TestClient) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"instances": ['
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far past the 1 MiB default
            sent += 1
            yield b" " * 65536

    response = client.post("/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_many_invalid_instances_give_a_small_error_that_never_echoes_them(client: TestClient) -> None:
    bad = {**PASSENGER, "Sex": "robot", "x" * 5000: 1}
    response = client.post("/predict", json={"instances": [bad] * 50})
    assert response.status_code == 422
    body = response.json()
    assert len(response.content) < 8192, len(response.content)
    assert body["errors"] == 100 and body["shown"] == 20
    assert "x" * 100 not in response.text


def test_a_short_admin_token_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Settings(admin_token="x")  # type: ignore[arg-type]


def test_the_server_options_enforce_the_settings() -> None:
    options = server_options(Settings(max_header_bytes=4096, keepalive_timeout_seconds=3, max_connections=7))
    assert issubclass(options.pop("http"), H11Protocol)
    assert options == {
        "h11_max_incomplete_event_size": 4096,
        "timeout_keep_alive": 3,
        "limit_concurrency": 7,
    }


def _served(state: ServingState, logs: Path, read_timeout: str) -> LiveServer:
    return LiveServer(
        state,
        logs,
        TITANIC_MLOPS_PREDICTION_LOG_URL=f"sqlite:///{logs / 'log.db'}",
        TITANIC_MLOPS_BODY_READ_TIMEOUT_SECONDS=read_timeout,
        TITANIC_MLOPS_HEADER_READ_TIMEOUT_SECONDS=read_timeout,
    )


@pytest.fixture(scope="module")
def live(serving_state: ServingState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with _served(serving_state, tmp_path_factory.mktemp("limits"), "1") as server:
        yield server


def _health_ms(url: str, samples: int = 5) -> float:
    """The median /health latency: a held loop makes every sample slow; one unlucky sample on a
    loaded machine (the CI runner, the shared box) does not move the median."""
    times = []
    with httpx.Client(timeout=5) as client:
        for _ in range(samples):
            started = time.perf_counter()
            assert client.get(url + "/health").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _send(port: int, data: bytes) -> tuple[bytes, float]:
    """Send `data` (maybe not all of it: the server may close early); the answer and its delay."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:

        def push() -> None:
            with contextlib.suppress(OSError):
                sock.sendall(data)

        sender = threading.Thread(target=push, daemon=True)
        sender.start()
        answer = sock.recv(4096)  # read while sending: the answer comes before the rest is read
        seconds = time.perf_counter() - started
        with contextlib.suppress(OSError):  # the server may have closed already
            sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=10)
    return answer, seconds


@pytest.mark.slow
def test_a_48_mb_header_is_refused_within_a_second(live: LiveServer) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (48 * 2**20) + b"\r\n\r\n"
    answer, seconds = _send(live.port, request)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
    assert seconds < 1.0
    assert _health_ms(live.url) < 100


@pytest.mark.slow
def test_a_50_mb_body_is_refused_within_a_second_and_health_stays_fast(live: LiveServer) -> None:
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    answer, seconds = _send(live.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(50 * 2**20))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert seconds < 1.0
    assert _health_ms(live.url) < 100


def _chunked(size: int) -> bytes:
    chunk = b" " * 2**20
    return (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (size // len(chunk)) + b"0\r\n\r\n"


@pytest.mark.slow
def test_a_half_sent_body_is_answered_408_within_the_read_timeout(live: LiveServer, tmp_path: Path) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Content-Length: 1000\r\n\r\n{")
        started = time.perf_counter()
        answer = sock.recv(4096)
        seconds = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert seconds < 3.0
    assert _health_ms(live.url) < 100


@pytest.mark.slow
def test_200_slow_connections_are_closed_within_the_read_timeout_and_health_stays_fast(
    live: LiveServer,
) -> None:
    slow = [socket.create_connection(("127.0.0.1", live.port), timeout=10) for _ in range(200)]
    try:
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        assert _health_ms(live.url) < 100
        started = time.perf_counter()
        for sock in slow:
            assert sock.recv(1) == b""  # closed by the server, nothing answered
        assert time.perf_counter() - started < 5.0
    finally:
        for sock in slow:
            sock.close()


@pytest.fixture(scope="module")
def patient(serving_state: ServingState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose read timeouts outlast the test, so idle connections stay held throughout."""
    with _served(serving_state, tmp_path_factory.mktemp("idle"), "60") as server:
        yield server


def _open(sock: socket.socket) -> bool:
    """The server has not closed it (nothing to read yet, no end of stream)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


@pytest.mark.slow
def test_300_idle_half_sent_requests_leave_health_and_predict_answering(patient: LiveServer) -> None:
    idle = [socket.create_connection(("127.0.0.1", patient.port), timeout=10) for _ in range(300)]
    try:
        for sock in idle:
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        assert _health_ms(patient.url) < 100
        with httpx.Client(timeout=5) as client:
            assert client.post(patient.url + "/predict", json={"instances": [PASSENGER]}).status_code == 200
        assert sum(_open(sock) for sock in idle) == 300  # every one was still held while answering
    finally:
        for sock in idle:
            sock.close()
