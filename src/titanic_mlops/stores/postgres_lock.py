"""Named locks as PostgreSQL session-level advisory locks (the production profile).

Released when the session ends, so a crashed holder never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator

import psycopg

from titanic_mlops.stores.interfaces import LockTimeout

_POLL_SECONDS = 0.1


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLock:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    @contextlib.contextmanager
    def hold(self, name: str, timeout: float) -> Iterator[None]:
        key = advisory_key(f"titanic-mlops:{name}")
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as db:
            while True:
                got = db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                if got is not None and got[0]:
                    break
                if time.monotonic() > deadline:
                    raise LockTimeout(f"advisory lock {name!r}: still held after {timeout:g} s")
                time.sleep(_POLL_SECONDS)
            try:
                yield
            finally:
                db.execute("SELECT pg_advisory_unlock(%s)", (key,))
