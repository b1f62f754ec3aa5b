"""One promotion at a time per model: the gate holds this lock from reading the champion to moving it.

Two gates that overlap would each judge against the champion they read first, and the later one
could move `champion` past a version it never compared with. The lock makes the second wait.
`file:///dir` (the embedded profile) locks `<dir>/<name>.lock` with flock; `postgresql://...` (the
production profile) takes a session-level advisory lock, released when the session ends, so a
crashed gate never leaves a stale lock behind in either store.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

from titanic_mlops.errors import TitanicMlopsError
from titanic_mlops.profiles import is_postgres

DEFAULT_TIMEOUT_SECONDS = 900.0
_POLL_SECONDS = 0.1


class LockTimeout(TitanicMlopsError):
    """Another promotion held the lock for longer than the timeout."""


@contextlib.contextmanager
def hold(url: str, name: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Iterator[None]:
    """Block until `name` is ours (or raise LockTimeout), release on exit."""
    if is_postgres(url):
        with _advisory(url, name, timeout):
            yield
    elif url.startswith("file://"):
        with file_lock(Path(url.removeprefix("file://")) / f"{_safe(name)}.lock", timeout):
            yield
    else:
        raise ValueError(f"TITANIC_MLOPS_LOCK_URL: unsupported lock URL {url!r} (file:// or postgresql://)")


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Iterator[None]:
    """An exclusive flock on `path` (created if missing); the kernel drops it if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(f"{path}: still locked after {timeout:.0f} s") from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory(url: str, name: str, timeout: float) -> Iterator[None]:
    import psycopg

    from titanic_mlops.postgres import connection_string

    key = advisory_key(f"titanic-mlops:{name}")
    deadline = time.monotonic() + timeout
    with psycopg.connect(connection_string(url), autocommit=True, connect_timeout=10) as db:
        while True:
            got = db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if got is not None and got[0]:
                break
            if time.monotonic() > deadline:
                raise LockTimeout(f"advisory lock {name!r}: still held after {timeout:.0f} s")
            time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
