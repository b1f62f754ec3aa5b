"""What a request needs, in one place: the deployment, the metrics, the log, and what is ready.

`ready` (the checked model and the online features it scores with) is one frozen value,
replaced in one assignment on a swap: a request reads it once and keeps that reference, so it
never sees half of a swap.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from serving import heap
from serving.challenger import ChallengerSlot
from serving.log_writer import LogWriter
from serving.metrics import Metrics
from titanic_mlops.domain import golden
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.served_model import AliasFollower, ReloadResult, ServingModel
from titanic_mlops.services.ticket_sizes import TicketSizes
from titanic_mlops.stores.interfaces import PredictionLog

logger = logging.getLogger("serving")


@dataclass(frozen=True)
class OnlineFeatures:
    """The Feast store (vectors by PassengerId) and its cached ticket group sizes."""

    store: Any
    tickets: TicketSizes


@dataclass(frozen=True)
class Ready:
    model: ServingModel
    online: OnlineFeatures


@dataclass
class Runtime:
    deployment: Deployment
    metrics: Metrics
    follower: AliasFollower
    log: PredictionLog
    online: OnlineFeatures | None = None
    ready: Ready | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    challenger: ChallengerSlot | None = None  # the online experiment's second model (serving/challenger.py)
    writer: LogWriter = field(init=False)
    polls: int = 0  # alias polls done, whatever their result (tests synchronise on it)
    settles: int = 0  # heap settles after a model load (serving/heap.py)
    # the loaded models (by id) the heap was last settled for: a swap by a poll or by
    # /admin/reload differs from it, and the next poll settles
    settled_for: tuple[int, int] = (0, 0)
    # "ok", or why predictions now default the ticket group size (checked once per poll)
    online_store: str = "unchecked"

    def __post_init__(self) -> None:
        self.writer = LogWriter(self.deployment.settings.log_write_timeout_seconds, self.log.append)

    def open_online(self) -> None:
        store = self.deployment.feature_store()
        self.online = OnlineFeatures(store, self.deployment.ticket_sizes(store))

    def reload(self, force: bool = False) -> ReloadResult:
        """One alias poll; a new checked version replaces `ready` in one assignment."""
        current = self.ready.model if self.ready is not None else None
        try:
            followed = self.follower.follow(current, force=force)
        except Exception:
            self.metrics.reloads.labels(result="error").inc()
            raise
        finally:
            self.polls += 1
        self.metrics.reloads.labels(result=followed.result).inc()
        online = self.online
        if online is not None:
            online.tickets.clear()  # the store may have been re-materialized with the new model
        if followed.result == "swapped" and followed.model is not None and online is not None:
            self.ready = Ready(followed.model, online)
            ref = followed.model.model.ref
            self.metrics.served(ref.name, ref.version, ref.run_id, followed.model.model.loaded_at)
        return followed.result

    async def follow_alias(self) -> None:
        """Warm up (the online store, then the champion), then poll the alias until shutdown."""
        interval = self.deployment.settings.reload_interval_seconds
        while self.online is None:
            try:
                await asyncio.to_thread(self.open_online)
            except Exception:
                logger.exception("cannot open the feature store; retrying")
                await asyncio.sleep(interval)
        while True:
            try:
                await asyncio.to_thread(self.reload)
            except Exception:
                logger.exception("alias poll failed; the current model keeps serving")
            if self.challenger is not None:  # a12: load or drop the experiment's challenger
                try:
                    await asyncio.to_thread(self.challenger.refresh)
                except Exception:
                    logger.exception("challenger poll failed; the champion serves on")
            loaded = self.loaded_models()
            if loaded != self.settled_for:
                settled = await asyncio.to_thread(heap.settle)
                self.settled_for, self.settles = loaded, self.settles + 1
                logger.info(
                    "heap settled after a model load: %d objects frozen, %d collected, %.0f ms",
                    settled.frozen,
                    settled.collected,
                    settled.pause_ms,
                )
            self.online_store = await asyncio.to_thread(self.check_online)
            self.metrics.online_store_checked(self.online_store)
            await asyncio.sleep(interval)

    def loaded_models(self) -> tuple[int, int]:
        """The ids of the champion and the challenger in memory now (0: none). Ids, not the
        models: a reference kept here would keep a replaced model alive through the settle. A
        new model is loaded while the old one is still referenced, so it never reuses its id."""
        champion = self.ready.model if self.ready is not None else None
        loaded = self.challenger.current if self.challenger is not None else None
        challenger = loaded.model if loaded is not None else None
        return (id(champion) if champion is not None else 0, id(challenger) if challenger is not None else 0)

    def check_online(self) -> str:
        """Does the online store still know the golden passengers' tickets? A lost or emptied
        store silently turns every group size into the default (1), so say it in `/ready`."""
        if self.online is None:
            return "not opened"
        tickets = sorted({str(r["Ticket"]) for r in golden.GOLDEN_RECORDS})
        found = self.deployment.ticket_sizes(self.online.store).sizes(tickets)
        if all(size is None for size in found):
            return f"empty or unavailable: none of the {len(tickets)} golden tickets has a group size"
        return "ok"
