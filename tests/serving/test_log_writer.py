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
