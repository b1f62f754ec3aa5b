"""Ticket group sizes (a population feature) from the online store, cached between polls."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence

from titanic_mlops.domain.errors import OnlineStoreUnavailable

logger = logging.getLogger(__name__)

# Tickets -> their group sizes (None where the store has never seen a ticket).
TicketLookup = Callable[[Sequence[str]], Sequence[float | None]]


class TicketSizes:
    """Ticket group sizes from the online store, remembered until `clear()`.

    The store changes only when the feature stage runs again; serving clears this on every
    alias poll and every swap, so a stale size lives at most one reload interval.
    """

    def __init__(self, fetch: TicketLookup, max_entries: int = 100_000) -> None:
        self._fetch = fetch
        self._max_entries = max_entries
        self._known: dict[str, float | None] = {}
        self._lock = threading.Lock()

    def sizes(self, tickets: Sequence[str]) -> list[float | None]:
        known = self._known
        missing = sorted({t for t in tickets if t not in known})
        if not missing:
            return [known[t] for t in tickets]
        try:
            fetched = list(self._fetch(missing))
        except OnlineStoreUnavailable as exc:
            # Degrade, do not fail: a record carries everything but the group size, which then
            # defaults to 1 (as for a ticket nobody else holds). Not remembered: retried next time.
            logger.warning("ticket group sizes unavailable, using the default: %s", exc)
            return [known.get(t) for t in tickets]
        new = {
            t: None if s is None or math.isnan(s) else float(s) for t, s in zip(missing, fetched, strict=True)
        }
        with self._lock:
            if len(self._known) + len(new) > self._max_entries:
                self._known = {}
            self._known.update(new)
        return [new[t] if t in new else known[t] for t in tickets]

    def __call__(self, tickets: Sequence[str]) -> list[float | None]:
        return self.sizes(tickets)

    def clear(self) -> None:
        with self._lock:
            self._known = {}
