"""Named locks as flock'ed files in one directory (the embedded profile); the kernel drops a
dead holder's lock, so a crashed gate never leaves a stale one behind."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

from titanic_mlops.stores.interfaces import LockTimeout

_POLL_SECONDS = 0.1


@contextlib.contextmanager
def file_lock(path: Path, timeout: float) -> Iterator[None]:
    """An exclusive flock on `path` (created if missing), or LockTimeout after `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(f"{path}: still locked after {timeout:g} s") from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class FileLock:
    """`<directory>/<name>.lock` per name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def hold(self, name: str, timeout: float) -> contextlib.AbstractContextManager[None]:
        """`<safe name>.lock`; a name that needed changing gets a digest, so names never collide."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        if safe != name:
            safe += "-" + hashlib.sha256(name.encode()).hexdigest()[:12]
        return file_lock(self.directory / f"{safe}.lock", timeout)
