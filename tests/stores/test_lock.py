"""The named lock's contract (`interfaces.Lock`), one test body per backend.

Flock'ed files always, PostgreSQL advisory locks with `services`: a held lock makes the next
holder wait and then time out, other names are free, and the holder's death releases it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from titanic_mlops.stores.factory import open_lock
from titanic_mlops.stores.interfaces import LockTimeout

ROOT = Path(__file__).resolve().parents[2]
# A holder in its own process: takes the lock, says so, then waits to be killed.
HOLDER = """
import sys
from titanic_mlops.stores.factory import open_lock
with open_lock(sys.argv[1]).hold(sys.argv[2], timeout=60):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture(params=["file", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path / 'locks'}"
    database: str = request.getfixturevalue("database")
    return database


def test_a_held_lock_makes_the_next_holder_wait_and_time_out(url: str) -> None:
    entered = False
    with open_lock(url).hold("promotion-m", timeout=5):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="promotion-m"), open_lock(url).hold("promotion-m", timeout=0.5):
            entered = True
        waited = time.monotonic() - started
    assert not entered
    assert waited >= 0.5


def test_a_released_lock_goes_to_the_holder_waiting_for_it(url: str) -> None:
    trying = threading.Event()
    acquired: list[float] = []
    failures: list[BaseException] = []

    def waiter() -> None:
        trying.set()
        try:
            with open_lock(url).hold("promotion-m", timeout=60):
                acquired.append(time.monotonic())
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=waiter)
    with open_lock(url).hold("promotion-m", timeout=5):
        thread.start()
        assert trying.wait(timeout=30)
        released = time.monotonic()
    thread.join(timeout=90)
    assert not failures and len(acquired) == 1
    assert acquired[0] >= released  # not before the first holder left


def test_a_lock_is_free_again_after_its_holder_leaves_even_by_an_error(url: str) -> None:
    lock = open_lock(url)
    with lock.hold("promotion-m", timeout=5):
        pass
    with pytest.raises(RuntimeError, match="gate failed"), lock.hold("promotion-m", timeout=0):
        raise RuntimeError("gate failed")
    with open_lock(url).hold("promotion-m", timeout=0):
        pass  # timeout 0: taken at the first try, or LockTimeout


def test_different_names_do_not_block_each_other(url: str) -> None:
    with open_lock(url).hold("promotion-a", timeout=5), open_lock(url).hold("promotion-b", timeout=0):
        pass


def test_the_holders_death_releases_the_lock(url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, "promotion-m"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"  # blocks until the child holds the lock
        with pytest.raises(LockTimeout), open_lock(url).hold("promotion-m", timeout=0):
            pass
        holder.kill()  # SIGKILL: no `finally`, no unlock, only the kernel / the server cleaning up
        holder.wait(timeout=30)
        with open_lock(url).hold("promotion-m", timeout=30):  # LockTimeout if it stayed held
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()


def test_file_lock_names_differing_only_in_unsafe_characters_do_not_share_a_file(tmp_path: Path) -> None:
    lock = open_lock(f"file://{tmp_path}")
    with lock.hold("a/b", timeout=1), lock.hold("a:b", timeout=0.2):
        pass  # the second is a different lock: no LockTimeout
