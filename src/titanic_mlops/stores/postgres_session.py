"""One PostgreSQL connection shared by a store's threads, reopened by itself after a restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from titanic_mlops.stores.urls import connection_string

T = TypeVar("T")


class Session:
    """Autocommit connection under a lock (psycopg serializes a connection anyway).

    A call that finds the connection dropped reopens it and runs once more, so a service
    recovers from a database restart without its own retry loop.
    """

    def __init__(self, url: str, connect_timeout: float = 10.0) -> None:
        self.url = connection_string(url)
        self._timeout = connect_timeout
        self._lock = threading.Lock()
        self._db = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=int(self._timeout))

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self._lock:
            try:
                return work(self._db)
            except psycopg.OperationalError:
                if not self._db.closed and not self._db.broken:
                    raise
                self._db = self._connect()
                return work(self._db)

    def create_schema(self, lock_key: int, statements: tuple[str, ...]) -> None:
        """Concurrent `CREATE ... IF NOT EXISTS` from several processes races: serialize it."""

        def create(db: psycopg.Connection[Any]) -> None:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
                for statement in statements:
                    db.execute(statement)

        self.run(create)

    def close(self) -> None:
        with self._lock:
            self._db.close()
