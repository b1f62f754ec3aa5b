"""Monitoring state on PostgreSQL: the production profile's store, same interface as the files.

`monitoring_policy` holds one row per model (the cursor into the prediction log, the run of
alarming windows, the last retraining); `monitoring_cycles` holds every cycle's summary;
`retraining_cursor` one row per model (the last prediction id retraining consumed). `record`
changes both in one transaction, under a row lock, and only if the policy row is still the one
the cycle started from.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from titanic_mlops.domain.monitoring_policy import PolicyState
from titanic_mlops.domain.records import CycleResult
from titanic_mlops.stores.interfaces import conflict, usable_cycle
from titanic_mlops.stores.postgres_session import Session

_SCHEMA_LOCK_KEY = 0x7469_7461_6E69_6D  # "titanim"
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS monitoring_policy (
        model_name TEXT PRIMARY KEY,
        cursor_id BIGINT NOT NULL,
        consecutive INTEGER NOT NULL,
        last_retrain DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS monitoring_cycles (
        id BIGSERIAL PRIMARY KEY,
        model_name TEXT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        result JSONB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS monitoring_cycles_model ON monitoring_cycles (model_name, id)",
    """CREATE TABLE IF NOT EXISTS retraining_cursor (
        model_name TEXT PRIMARY KEY,
        cursor_id BIGINT NOT NULL
    )""",
)
_POLICY = "SELECT cursor_id, consecutive, last_retrain FROM monitoring_policy WHERE model_name = %s"


class PostgresMonitoringStore:
    """Thread-safe (one session); a dropped connection is reopened on the next call."""

    def __init__(self, url: str, model_name: str, connect_timeout: float = 10.0) -> None:
        self.model_name = model_name
        self._session = Session(url, connect_timeout)
        self._session.create_schema(_SCHEMA_LOCK_KEY, _SCHEMA)

    def policy(self) -> PolicyState:
        return self._session.run(self._policy)

    def latest(self) -> CycleResult | None:
        found = self._session.run(
            lambda db: db.execute(
                "SELECT result FROM monitoring_cycles WHERE model_name = %s ORDER BY id DESC LIMIT 1",
                (self.model_name,),
            ).fetchone()
        )
        return None if found is None else usable_cycle(found[0], f"monitoring_cycles ({self.model_name})")

    def record(self, result: CycleResult, policy: PolicyState, started_from: PolicyState) -> None:
        stored = result.model_dump(mode="json")

        def write(db: psycopg.Connection[Any]) -> None:
            with db.transaction():
                found = db.execute(_POLICY + " FOR UPDATE", (self.model_name,)).fetchone()
                if found is None:
                    if started_from != PolicyState():
                        raise conflict(PolicyState(), started_from)
                    claimed = db.execute(
                        "INSERT INTO monitoring_policy (model_name, cursor_id, consecutive, last_retrain)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (model_name) DO NOTHING",
                        (self.model_name, *asdict(policy).values()),
                    ).rowcount
                    if claimed != 1:  # a concurrent first cycle inserted the row
                        raise conflict(self._policy(db), started_from)
                else:
                    current = PolicyState(int(found[0]), int(found[1]), found[2])
                    if current != started_from:
                        raise conflict(current, started_from)
                    db.execute(
                        "UPDATE monitoring_policy SET cursor_id = %s, consecutive = %s, last_retrain = %s"
                        " WHERE model_name = %s",
                        (*asdict(policy).values(), self.model_name),
                    )
                db.execute(
                    "INSERT INTO monitoring_cycles (model_name, ts, result) VALUES (%s, %s, %s)",
                    (self.model_name, time.time(), Jsonb(stored)),
                )

        self._session.run(write)

    def _policy(self, db: psycopg.Connection[Any]) -> PolicyState:
        found = db.execute(_POLICY, (self.model_name,)).fetchone()
        return PolicyState() if found is None else PolicyState(int(found[0]), int(found[1]), found[2])

    def cycles(self, limit: int | None = 100) -> list[CycleResult]:
        """The newest `limit` cycles (None: all), oldest first."""
        rows = self._session.run(
            lambda db: db.execute(
                "SELECT result FROM (SELECT id, result FROM monitoring_cycles WHERE model_name = %s"
                " ORDER BY id DESC LIMIT %s) newest ORDER BY id",
                (self.model_name, limit),
            ).fetchall()
        )
        return [CycleResult.model_validate(row[0]) for row in rows]

    def retraining_cursor(self) -> int:
        found = self._session.run(
            lambda db: db.execute(
                "SELECT cursor_id FROM retraining_cursor WHERE model_name = %s", (self.model_name,)
            ).fetchone()
        )
        return 0 if found is None else int(found[0])

    def save_retraining_cursor(self, cursor: int) -> None:
        self._session.run(
            lambda db: db.execute(
                "INSERT INTO retraining_cursor (model_name, cursor_id) VALUES (%s, %s)"
                " ON CONFLICT (model_name) DO UPDATE SET cursor_id = EXCLUDED.cursor_id",
                (self.model_name, int(cursor)),
            )
        )

    def close(self) -> None:
        self._session.close()
