"""The prediction log's writes, off the event loop: one writer thread, a bounded queue, a bounded wait.

A log write that waits on a lock (another process holds SQLite's write lock, PostgreSQL is slow)
used to block the loop, and `/health` with it. Here every write runs on one dedicated thread (the
stores serialize writes anyway), the request awaits it for `log_write_timeout_seconds` at most,
and a write that fails or does not confirm in time is a 503 with the reason, never a 500: the
answer still leaves only after its row is durable. A write still queued when its request gives
up is cancelled, so a 503'd prediction is not logged behind the client's back; one already
running finishes (its row is durable, only its answer was lost).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException

logger = logging.getLogger("serving")

T = TypeVar("T")
# Writes in flight or queued beyond this answer 503 at once instead of piling up memory and time.
MAX_QUEUED = 256


class LogWriter:
    def __init__(self, timeout: float, max_queued: int = MAX_QUEUED) -> None:
        self.timeout = timeout
        self.max_queued = max_queued
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-writer")
        self._queued = 0
        self._count = threading.Lock()

    @property
    def queued(self) -> int:
        return self._queued

    async def write(self, what: str, call: Callable[[], T]) -> T:
        """`call()` on the writer thread; 503 naming `what` when full, failing or not in time."""
        with self._count:
            if self._queued >= self.max_queued:
                raise _unavailable(
                    f"the prediction log has {self._queued} writes waiting; {what} was not done"
                )
            self._queued += 1
        future = self._pool.submit(self._counted, call)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            future.cancel()
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
        finally:
            if future.cancelled():
                self._release()

    def _counted(self, call: Callable[[], T]) -> T:
        try:
            return call()
        finally:
            self._release()

    def _release(self) -> None:
        with self._count:
            self._queued -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def _unavailable(detail: str) -> HTTPException:
    return HTTPException(503, detail, headers={"Retry-After": "2"})
