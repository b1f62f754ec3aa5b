"""Concurrent appends, shared by the SQLite and PostgreSQL prediction-log tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence

from titanic_mlops.prediction_log import LoggedPrediction, PredictionLog

RowsFor = Callable[[int, int, str], list[LoggedPrediction]]  # (count, first PassengerId, request id)


def append_concurrently(
    logs: Sequence[PredictionLog], requests: int, sizes: int, rows_for: RowsFor
) -> dict[str, list[int]]:
    """Each log (one connection, as one API worker) appends `requests` requests while the others do.

    Request `w<worker>-<n>` holds 1 + n % sizes rows with PassengerIds from 100 * n on.
    """
    answers: dict[str, list[int]] = {}
    lock = threading.Lock()

    def work(log: PredictionLog, worker: int) -> None:
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
