"""The ticket group size cache: one fetch per ticket until cleared, bounded, and degrading."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from titanic_mlops.domain.errors import OnlineStoreUnavailable
from titanic_mlops.services.ticket_sizes import TicketSizes

SIZES = {"330911": 2.0}


def lookup(tickets: Sequence[str]) -> list[float | None]:
    return [SIZES.get(t) for t in tickets]


def test_ticket_sizes_fetch_each_ticket_once_until_cleared() -> None:
    calls: list[list[str]] = []

    def fetch(tickets: Sequence[str]) -> list[float | None]:
        calls.append(list(tickets))
        return lookup(tickets)

    cache = TicketSizes(fetch)
    assert cache.sizes(["330911", "nope", "330911"]) == [2.0, None, 2.0]
    assert cache.sizes(["nope", "330911"]) == [None, 2.0]
    assert calls == [["330911", "nope"]]
    cache.clear()
    assert cache(["330911"]) == [2.0]
    assert len(calls) == 2


def test_ticket_sizes_forget_everything_past_the_bound() -> None:
    cache = TicketSizes(lookup, max_entries=2)
    cache.sizes(["a", "b"])
    cache.sizes(["c"])
    assert cache.sizes(["330911"]) == [2.0]


def test_an_unavailable_store_gives_no_sizes_and_is_asked_again(caplog: pytest.LogCaptureFixture) -> None:
    up = [False]

    def fetch(tickets: Sequence[str]) -> list[float | None]:
        if not up[0]:
            raise OnlineStoreUnavailable("redis down")
        return lookup(tickets)

    cache = TicketSizes(fetch)
    assert cache.sizes(["330911"]) == [None]
    assert "unavailable" in caplog.text
    up[0] = True
    assert cache.sizes(["330911"]) == [2.0]
