"""serving/heap.py: a settle frees the garbage, freezes the rest, and lets go of a replaced model."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from serving import heap


class Node:
    """A reference cycle, as a loaded model holds them: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the session collects as usual


def test_a_settle_frees_the_garbage_and_freezes_what_is_alive() -> None:
    garbage, kept = Node(), Node()
    gone = weakref.ref(garbage)
    del garbage
    settled = heap.settle()
    assert gone() is None
    assert settled.collected >= 1
    assert settled.frozen == gc.get_freeze_count() > 0
    assert gc.is_tracked(kept) and kept.me is kept
    assert settled.pause_ms >= 0


def test_a_replaced_model_is_freed_by_the_next_settle_not_kept_frozen() -> None:
    model = Node()
    alive = weakref.ref(model)
    heap.settle()  # the model is loaded and frozen
    del model  # a swap drops it: its cycle is in the permanent generation
    gc.collect()
    assert alive() is not None, "a frozen cycle survives an ordinary collection"
    heap.settle()  # the next model's settle
    assert alive() is None


def test_collections_after_a_settle_still_free_new_garbage() -> None:
    heap.settle()
    fresh = Node()
    gone = weakref.ref(fresh)
    del fresh
    gc.collect()
    assert gone() is None
