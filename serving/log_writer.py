"""The prediction log's writes, off the event loop: one writer thread, a bounded queue, a bounded wait,
and group commit.

A log write that waits on a lock (another process holds SQLite's write lock, PostgreSQL is slow)
used to block the loop, and `/health` with it. Here every write runs on one dedicated thread (the
stores serialize writes anyway), the request awaits it for `log_write_timeout_seconds` at most,
and a write that fails or does not confirm in time is a 503 with the reason, never a 500: the
answer still leaves only after its row is durable. A write still queued when its request gives
up is dropped, so a 503'd prediction is not logged behind the client's back; one already
running finishes (its row is durable, only its answer was lost).

Group commit: the appends queued while the thread writes go to the store together, in one
`append` (one transaction), and each request gets its own ids back in order. Under load a
commit and a hand-off between threads per request cost more than the rows themselves: the log
took ~300 us of each request's time at 8 connections, where one row's insert alone takes ~30 us.
A request alone is written alone, as before. One failure fails every request of that commit, as
their rows land together or not at all.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import HTTPException

logger = logging.getLogger("serving")

# Writes in flight or queued beyond this answer 503 at once instead of piling up memory and time.
MAX_QUEUED = 256
# The most rows one group commit takes (a request's own rows are never split).
MAX_GROUP_ROWS = 2_000

Append = Callable[[list[Any]], list[int]]


@dataclass(eq=False)
class _Job:
    """One request's write: a call of its own, or rows to append with the others queued."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    call: Callable[[], Any] | None = None
    rows: list[Any] = field(default_factory=list)
    state: Literal["queued", "taken", "dropped"] = "queued"


class LogWriter:
    def __init__(
        self,
        timeout: float,
        append: Append | None = None,
        max_queued: int = MAX_QUEUED,
        max_group_rows: int = MAX_GROUP_ROWS,
    ) -> None:
        self.timeout = timeout
        self.max_queued = max_queued
        self.max_group_rows = max_group_rows
        self.commits = 0  # store appends made (tests and the profile read it)
        self._append = append
        self._jobs: collections.deque[_Job] = collections.deque()
        self._queued = 0
        self._closed = False
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        """Writes queued or running."""
        return self._queued

    async def write(self, what: str, call: Callable[[], Any]) -> Any:
        """`call()` on the writer thread; 503 naming `what` when full, failing or not in time."""
        loop = asyncio.get_running_loop()
        return await self._submit(what, _Job(loop, loop.create_future(), call=call))

    async def append(self, what: str, rows: list[Any]) -> list[int]:
        """The rows appended to the log (with whatever else is queued): their ids, in order."""
        if self._append is None:
            raise RuntimeError("this LogWriter was built without an append")
        loop = asyncio.get_running_loop()
        ids: list[int] = await self._submit(what, _Job(loop, loop.create_future(), rows=rows))
        return ids

    async def _submit(self, what: str, job: _Job) -> Any:
        with self._lock:
            if self._queued >= self.max_queued:
                raise _unavailable(
                    f"the prediction log has {self._queued} writes waiting; {what} was not done"
                )
            self._queued += 1
            self._jobs.append(job)
            self._wake.notify()
        try:
            async with asyncio.timeout(self.timeout):
                return await job.future
        except TimeoutError:
            self._drop(job)
            raise _unavailable(
                f"the prediction log did not confirm within {self.timeout:g} s (is its database locked?); "
                f"{what} was not done"
            ) from None
        except LookupError:  # an answer of the store (no such prediction), not a failure
            raise
        except Exception as exc:  # a store error (database locked past its busy timeout, outage)
            logger.warning("prediction log write failed: %s: %s", type(exc).__name__, exc)
            raise _unavailable(
                f"the prediction log failed ({type(exc).__name__}: {exc}); {what} was not done"
            ) from exc

    def _drop(self, job: _Job) -> None:
        """A request that gave up: its write is dropped if it has not started."""
        with self._lock:
            if job.state == "queued":
                job.state = "dropped"
                self._queued -= 1

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._jobs and not self._closed:
                    self._wake.wait()
                if not self._jobs:
                    return
                group = self._take()
            if group:
                self._settle(group, *self._do(group))

    def _take(self) -> list[_Job]:
        """The next write, with the appends queued behind it when it is one (under the lock)."""
        group: list[_Job] = []
        rows = 0
        while self._jobs:
            job = self._jobs[0]
            if job.state == "dropped":
                self._jobs.popleft()
                continue
            joins = job.call is None and (not group or (group[0].call is None and job.loop is group[0].loop))
            if group and (not joins or rows + len(job.rows) > self.max_group_rows):
                break
            self._jobs.popleft()
            job.state = "taken"
            group.append(job)
            rows += len(job.rows)
            if job.call is not None:
                break
        return group

    def _do(self, group: Sequence[_Job]) -> tuple[list[Any], BaseException | None]:
        """Run the group: one result per job, or the exception every job of it gets."""
        try:
            if group[0].call is not None:
                return [group[0].call()], None
            assert self._append is not None
            ids = self._append([row for job in group for row in job.rows])
            self.commits += 1
            results, start = [], 0
            for job in group:
                results.append(ids[start : start + len(job.rows)])
                start += len(job.rows)
            return results, None
        except BaseException as exc:  # handed to each request, which answers 503 naming it
            return [], exc

    def _settle(self, group: Sequence[_Job], results: list[Any], error: BaseException | None) -> None:
        with self._lock:
            self._queued -= len(group)
        outcomes = [(job.future, None if error else results[i], error) for i, job in enumerate(group)]
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for these any more
            group[0].loop.call_soon_threadsafe(_deliver, outcomes)

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()


def _deliver(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """On the loop: each waiting request gets its result (one that gave up gets nothing)."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _unavailable(detail: str) -> HTTPException:
    return HTTPException(503, detail, headers={"Retry-After": "2"})
