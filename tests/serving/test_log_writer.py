"""The log writer: off the loop, bounded wait, bounded queue, 503 with a reason, never a 500."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from fastapi import HTTPException

from serving.log_writer import LogWriter


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_a_write_returns_what_the_store_returned() -> None:
    writer = LogWriter(timeout=5)
    try:
        assert run(writer.write("the prediction", lambda: [1, 2])) == [1, 2]
        assert writer.queued == 0
    finally:
        writer.close()


def test_a_locked_database_is_a_503_naming_the_error() -> None:
    def locked() -> list[int]:
        raise sqlite3.OperationalError("database is locked")

    writer = LogWriter(timeout=5)
    try:
        with pytest.raises(HTTPException) as refused:
            run(writer.write("the prediction", locked))
        assert refused.value.status_code == 503
        assert "database is locked" in refused.value.detail and "not done" in refused.value.detail
    finally:
        writer.close()


def test_a_stuck_write_is_a_503_after_the_bounded_wait_and_the_queued_one_never_runs() -> None:
    release, ran = threading.Event(), threading.Event()
    writer = LogWriter(timeout=0.2)

    async def both() -> list[BaseException | object]:
        first = asyncio.ensure_future(writer.write("the first", lambda: release.wait(30)))
        second = asyncio.ensure_future(writer.write("the second", ran.set))
        return list(await asyncio.gather(first, second, return_exceptions=True))

    try:
        first, second = run(both())  # type: ignore[misc]
        for outcome in (first, second):
            assert isinstance(outcome, HTTPException) and outcome.status_code == 503
            assert "did not confirm within 0.2 s" in outcome.detail
    finally:
        release.set()
        writer.close()
    assert not ran.is_set(), "a write whose request gave up was still run"
    assert writer.queued == 0


def test_a_full_queue_is_a_503_at_once() -> None:
    release = threading.Event()
    writer = LogWriter(timeout=5, max_queued=1)

    async def two() -> None:
        first = asyncio.ensure_future(writer.write("the first", lambda: release.wait(30)))
        await asyncio.sleep(0)  # let the first take the only place
        with pytest.raises(HTTPException, match="1 writes waiting"):
            await writer.write("the second", lambda: None)
        release.set()
        await first

    try:
        run(two())
    finally:
        release.set()
        writer.close()


def test_lookup_errors_are_answers_not_failures() -> None:
    def missing() -> None:
        raise KeyError("no such prediction")

    writer = LogWriter(timeout=5)
    try:
        with pytest.raises(KeyError):
            run(writer.write("the feedback", missing))
    finally:
        writer.close()


def test_appends_queued_together_share_one_commit_and_each_gets_its_own_ids() -> None:
    """Group commit: while the thread is busy, three requests queue 1, 3 and 2 rows; they go to
    the store in one append, in queue order, and each request gets its own slice of the ids."""
    calls: list[list[str]] = []

    def append(rows: list[str]) -> list[int]:
        calls.append(rows)
        start = sum(len(c) for c in calls[:-1]) + 1
        return list(range(start, start + len(rows)))

    release = threading.Event()
    writer = LogWriter(timeout=5, append=append)

    async def three() -> list[object]:
        busy = asyncio.ensure_future(writer.write("the feedback", lambda: release.wait(30)))
        parts = [
            asyncio.ensure_future(writer.append("the prediction", rows))
            for rows in (["a"], ["b", "c", "d"], ["e", "f"])
        ]
        while writer.queued < 4:  # every write is queued behind the busy one
            await asyncio.sleep(0)
        release.set()
        await busy
        return list(await asyncio.gather(*parts))

    try:
        assert run(three()) == [[1], [2, 3, 4], [5, 6]]
        assert calls == [["a", "b", "c", "d", "e", "f"]] and writer.commits == 1
    finally:
        release.set()
        writer.close()


def test_a_failed_group_commit_fails_every_request_in_it_and_the_next_one_is_written() -> None:
    failures = iter([sqlite3.OperationalError("disk I/O error")])

    def append(rows: list[str]) -> list[int]:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return list(range(1, len(rows) + 1))

    release = threading.Event()
    writer = LogWriter(timeout=5, append=append)

    async def attempts() -> tuple[list[BaseException | object], object]:
        busy = asyncio.ensure_future(writer.write("the feedback", lambda: release.wait(30)))
        parts = [asyncio.ensure_future(writer.append("the prediction", [r])) for r in ("a", "b")]
        while writer.queued < 3:
            await asyncio.sleep(0)
        release.set()
        await busy
        failed = list(await asyncio.gather(*parts, return_exceptions=True))
        return failed, await writer.append("the prediction", ["c"])

    try:
        failed, later = run(attempts())  # type: ignore[misc]
        for outcome in failed:
            assert isinstance(outcome, HTTPException) and outcome.status_code == 503
            assert "disk I/O error" in outcome.detail
        assert later == [1]
    finally:
        release.set()
        writer.close()
    assert writer.queued == 0


def test_a_request_that_gave_up_is_left_out_of_the_group_commit() -> None:
    written: list[list[str]] = []
    release = threading.Event()
    writer = LogWriter(timeout=0.2, append=lambda rows: written.append(rows) or list(range(len(rows))))

    async def late() -> BaseException | object:
        busy = asyncio.ensure_future(writer.write("the feedback", lambda: release.wait(30)))
        gave_up = await asyncio.gather(writer.append("the prediction", ["a"]), return_exceptions=True)
        release.set()
        await asyncio.gather(busy, return_exceptions=True)
        assert await writer.append("the prediction", ["b"]) == [0]
        return gave_up[0]

    try:
        outcome = run(late())
        assert isinstance(outcome, HTTPException) and "did not confirm within 0.2 s" in outcome.detail
    finally:
        release.set()
        writer.close()
    assert written == [["b"]]
