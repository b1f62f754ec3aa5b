"""Relocate: a copied or moved state directory works on its own and never touches the original.

MLflow and Feast record where their files live as absolute paths (artifact URIs in the MLflow
database, the online store's file in Feast's registry), and follow those records, not the
settings. So the state remembers the root it was last opened at (`StateLayout.home`); opened at
another root (a `cp -a` copy, a `mv`), every location recorded under the old root is rebased
onto the new one, each by the adapter that knows its store, before any store is opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

from titanic_mlops import atomic
from titanic_mlops.adapters import feast_store
from titanic_mlops.adapters.mlflow import relocate as mlflow_relocate
from titanic_mlops.config.layout import StateLayout

log = logging.getLogger("titanic_mlops")


def recorded_home(state: StateLayout) -> Path | None:
    """The root the state's stores recorded their locations under; None before the first open."""
    if not state.home.exists():
        return None
    return Path(state.home.read_text(encoding="utf-8").strip())


def settle(state: StateLayout) -> Path | None:
    """Rebase the stores if the state was last opened elsewhere; returns that old root, if any.

    Idempotent, so two processes opening a fresh copy at once both end with the same records; the
    new root is written last, so an interrupted rebase runs again on the next open.
    """
    if not state.root.is_dir():
        return None  # nothing recorded yet; a read-only command must not create the state
    here = state.root.resolve()
    old = recorded_home(state)
    if old == here:
        return None
    if old is not None:
        rows = mlflow_relocate.rebase_locations(state.mlflow_db, old, here)
        tables = feast_store.rebase_registry(state.feast_registry, old, here)
        log.info(
            "state %s was at %s: rebased %d MLflow location(s) and %d Feast table(s)", here, old, rows, tables
        )
    atomic.write_text(state.home, f"{here}\n")
    return old
