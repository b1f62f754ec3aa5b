"""The composition in one place: a deployment's stores and adapters, built from its settings.

The CLI, the API, the flows and the benchmarks all ask a `Deployment` for the registry, the
prediction log, the monitoring state, the promotion lock, the history and the feature store, so
the profile (embedded or production) decides every one of them the same way everywhere.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from titanic_mlops.adapters import feast_store
from titanic_mlops.adapters.mlflow import view
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config import profiles
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.errors import ModelNotFound
from titanic_mlops.services import relocation
from titanic_mlops.services.ticket_sizes import TicketSizes
from titanic_mlops.stores import factory, urls
from titanic_mlops.stores.interfaces import MonitoringStore, PredictionLog

logger = logging.getLogger("titanic_mlops")


@dataclass(frozen=True)
class Deployment:
    settings: Settings = field(default_factory=Settings)

    @property
    def state(self) -> StateLayout:
        return self.settings.state_layout

    @property
    def model_name(self) -> str:
        return self.settings.model_name

    @property
    def history_path(self) -> Path:
        return self.settings.history_path

    def registry(self, probe_timeout: float | None = None) -> Registry:
        """The tracking store; `probe_timeout` for a poller that must not wait out retries."""
        s = self.settings
        relocation.settle(self.state)  # a copied state's records name the original until rebased
        return Registry(s.resolved_tracking_uri, s.resolved_artifact_root, s.model_name, probe_timeout)

    def registry_versions(self) -> view.Versions:
        """What each alias points at, as `status` shows it: the saved view while the embedded
        store is unchanged since it was saved (no MLflow import), else read live."""
        s = self.settings
        saved = view.load(
            s.state_layout.registry_view,
            self.embedded_tracking_store(),
            s.resolved_tracking_uri,
            s.model_name,
        )
        return saved if saved is not None else view.live(self.registry())

    def save_registry_view(self, registry: Registry) -> None:
        """After an alias moved: `status` answers from this until the store is written again.

        Best effort: the decision is made and recorded already, and without a view `status`
        reads the registry live, so a failure here is logged, never raised."""
        try:
            view.save(registry, self.settings.state_layout.registry_view, self.embedded_tracking_store())
        except Exception as exc:  # see above: nothing is lost but a faster `status`
            logger.warning("registry view not saved (status will read MLflow): %s", exc)

    def embedded_tracking_store(self) -> Path | None:
        """The embedded MLflow database's file; None for a tracking server or another database."""
        uri = self.settings.resolved_tracking_uri
        if not uri.startswith("sqlite:///"):
            return None
        return urls.parse(uri, "TITANIC_MLOPS_TRACKING_URI", ("sqlite",)).path

    def missing_tracking_store(self) -> Path | None:
        """The embedded MLflow database when it does not exist yet (opening it would create it)."""
        path = self.embedded_tracking_store()
        return None if path is None or path.exists() else path

    def existing_registry(self) -> Registry:
        """The tracking store for a command that reads models only: never created by reading it."""
        missing = self.missing_tracking_store()
        if missing is not None:
            # The CLI's error line adds what to run, as for any ModelNotFound.
            raise ModelNotFound(f"no MLflow database at {missing} yet, so no model {self.model_name!r}")
        return self.registry()

    def prediction_log(self, checkpoint_seconds: float | None = None) -> PredictionLog:
        return factory.open_prediction_log(self.settings.resolved_prediction_log_url, checkpoint_seconds)

    def monitoring_store(self) -> MonitoringStore:
        return factory.open_monitoring_store(self.settings.resolved_monitoring_url, self.model_name)

    def promotion_lock(self, timeout: float = factory.DEFAULT_LOCK_TIMEOUT_SECONDS) -> Any:
        """One promotion at a time per model: held from reading the champion to moving it."""
        return factory.open_lock(self.settings.resolved_lock_url).hold(
            f"promotion-{self.model_name}", timeout
        )

    def feast_variables(self) -> dict[str, str]:
        """What the Feast config file's ${VARIABLES} become: the profile's, then the environment."""
        return {**profiles.FEAST_VARIABLES, **os.environ}

    def feature_store(self, repo: Path | None = None) -> Any:
        """The Feast store of `repo` (default: the settings' feature repo) for this profile."""
        s = self.settings
        config = s.resolved_feast_config
        relocation.settle(self.state)
        return feast_store.open_store(repo or s.feature_repo, s.state, config, self.feast_variables())

    def ticket_sizes(self, store: Any) -> TicketSizes:
        """Cached ticket group sizes from `store`'s online store."""
        return TicketSizes(lambda tickets: list(feast_store.online_ticket_group_sizes(store, tickets)))


@contextlib.contextmanager
def opened_log(deployment: Deployment) -> Iterator[PredictionLog]:
    log = deployment.prediction_log()
    try:
        yield log
    finally:
        log.close()


@contextlib.contextmanager
def opened_monitoring(deployment: Deployment) -> Iterator[MonitoringStore]:
    store = deployment.monitoring_store()
    try:
        yield store
    finally:
        store.close()
