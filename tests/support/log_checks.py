"""Prediction-log rows and concurrent appends, shared by the prediction-log and migration tests."""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from titanic_mlops.stores.interfaces import LoggedPrediction, PredictionLog

RowsFor = Callable[[int, int, str], list[LoggedPrediction]]  # (count, first PassengerId, request id)


def predictions(count: int, start: int = 1, request: str = "r") -> list[LoggedPrediction]:
    """`count` rows of one request, PassengerIds from `start` on, probability PassengerId / 10 000.

    Odd PassengerIds have a missing `age` input (logged as null), even ones are 30.
    """
    return [
        LoggedPrediction(
            request_id=request, model_name="m", model_version="1", passenger_id=i,
            record={"PassengerId": i, "Name": "Kelly, Mr. James"},
            inputs={"age": float("nan") if i % 2 else 30.0, "title": "Mr"},
            probability=i / 10_000, survived=i % 2, latency_ms=1.5,
        )
        for i in range(start, start + count)
    ]  # fmt: skip


def append_concurrently(
    logs: Sequence[PredictionLog], requests: int, sizes: int, rows_for: RowsFor
) -> dict[str, list[int]]:
    """Each log (one connection, as one API worker) appends `requests` requests while the others do.

    Request `w<worker>-<n>` holds 1 + n % sizes rows with PassengerIds from 100 * n on.
    """
    answers: dict[str, list[int]] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(logs))

    def work(log: PredictionLog, worker: int) -> None:
        start.wait(timeout=60)
        for n in range(requests):
            request = f"w{worker}-{n}"
            ids = log.append(rows_for(1 + n % sizes, 100 * n, request))
            with lock:
                answers[request] = ids

    threads = [threading.Thread(target=work, args=(log, i)) for i, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def append_in_process(url: str, worker: int, requests: int, sizes: int, start: Any, out: Any) -> None:
    """`append_concurrently`'s worker as its own process (a multiprocessing target, so top level).

    Opens the log, waits at the `start` barrier for the other processes, appends its requests
    and puts {request id: ids} on `out` (or the traceback, as a string, if it failed).
    """
    from titanic_mlops.stores.factory import open_prediction_log

    try:
        log = open_prediction_log(url)
        try:
            start.wait(timeout=120)
            answers = {}
            for n in range(requests):
                request = f"w{worker}-{n}"
                answers[request] = log.append(predictions(1 + n % sizes, 100 * n, request))
        finally:
            log.close()
    except BaseException:
        start.abort()  # the other workers stop waiting for this one
        out.put(traceback.format_exc())
        raise
    out.put(answers)


def assert_requests_kept_apart(log: PredictionLog, answers: dict[str, list[int]]) -> None:
    """Every request's ids ascend with its rows, hold only its rows, and none was lost."""
    frame = log.window().set_index("id")
    assert len(frame) == sum(len(ids) for ids in answers.values())
    for request, ids in answers.items():
        n = int(request.split("-")[1])
        assert ids == sorted(ids)
        assert frame.loc[ids, "request_id"].eq(request).all()
        assert frame.loc[ids, "record"].map(lambda r: json.loads(r)["PassengerId"]).tolist() == list(
            range(100 * n, 100 * n + len(ids))
        )
