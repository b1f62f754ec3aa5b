"""The Prometheus metrics the API exports, with the names docs/architecture.md fixes."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from titanic_mlops.domain import features
from titanic_mlops.services.anomaly import Flags
from titanic_mlops.services.deployment import Deployment
from titanic_mlops.services.scoring import Scoring
from titanic_mlops.stores.interfaces import MonitoringStore

logger = logging.getLogger("serving")

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PROBABILITY_BUCKETS = tuple(i / 10 for i in range(1, 11))


class Metrics:
    """One registry per app, so tests can build many apps in one process."""

    def __init__(self, deployment: Deployment) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series: noise here
        self.registry = CollectorRegistry(auto_describe=True)
        self._served: tuple[str, str, str] | None = None
        r = self.registry
        health_collectors(r)
        self.requests = Counter(
            "titanic_http_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "titanic_http_request_duration_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "titanic_predictions", "Predictions served", ["model_version", "survived"], registry=r
        )
        self.probability = Histogram(
            "titanic_prediction_probability",
            "Predicted survival probability",
            buckets=PROBABILITY_BUCKETS,
            registry=r,
        )
        self.model_info = Gauge(
            "titanic_model_info",
            "The model being served (value 1)",
            ["name", "version", "run_id"],
            registry=r,
        )
        self.model_loaded = Gauge(
            "titanic_model_loaded_timestamp_seconds", "When the served model was loaded", registry=r
        )
        self.missing = Counter(
            "titanic_missing_features", "Model inputs that arrived empty", ["feature"], registry=r
        )
        defaulted = "Predictions whose stored feature was not found, so a default was used"
        self.defaulted = Counter("titanic_defaulted_features", defaulted, ["feature"], registry=r)
        store_ok = "1 while the online store knows the golden passengers' tickets, 0 once it is lost"
        self.online_store = Gauge("titanic_online_store_ok", store_ok, registry=r)
        self.reloads = Counter("titanic_model_reloads", "Alias checks by outcome", ["result"], registry=r)
        for result in ("swapped", "unchanged", "refused", "error"):
            self.reloads.labels(result=result)
        self.log_rows = Counter(
            "titanic_prediction_log_rows", "Rows appended to the prediction log", registry=r
        )
        self.anomalous = Counter(
            "titanic_anomalous_predictions",
            "Predictions the outlier detector flagged",
            ["model_version"],
            registry=r,
        )
        self.monitoring = MonitoringCollector(deployment)
        self._children: dict[tuple[object, ...], Any] = {}
        r.register(self.monitoring)

    def served(self, name: str, version: str, run_id: str, loaded_at: float) -> None:
        if self._served is not None:
            self.model_info.remove(*self._served)
        self._served = (name, version, run_id)
        self.model_info.labels(name=name, version=version, run_id=run_id).set(1)
        self.model_loaded.set(loaded_at)

    def missing_inputs(self, scored: Scoring) -> None:
        for name, count in features.missing_counts(scored.inputs).items():
            labelled(self._children, self.missing, feature=name).inc(count)
        if scored.defaulted_group_sizes:
            labelled(self._children, self.defaulted, feature="ticket_group_size").inc(
                scored.defaulted_group_sizes
            )

    def online_store_checked(self, verdict: str) -> None:
        """The poll's verdict on the online store ("ok" or why not) as a 1/0 gauge."""
        self.online_store.set(1 if verdict == "ok" else 0)

    def anomalies(self, scored: Scoring, flags: Flags | None) -> None:
        """Count the flagged passengers of one scoring (none counted without a detector)."""
        if flags is not None and flags.count:
            labelled(self._children, self.anomalous, model_version=scored.model.version).inc(flags.count)

    def logged(self, scored: Scoring, rows: int) -> None:
        """Counters after a scoring reached the prediction log."""
        self.log_rows.inc(rows)
        survived = scored.survived
        survivors = int(survived.sum())
        version = scored.model.version
        for label, count in (("1", survivors), ("0", len(survived) - survivors)):
            if count:
                labelled(self._children, self.predictions, model_version=version, survived=label).inc(count)
        for p in scored.probability.tolist():
            self.probability.observe(p)


def health_collectors(registry: CollectorRegistry) -> None:
    """Process CPU, memory, open files, the Python build and GC: the custom registry has none.

    The default collectors live on prometheus_client's global registry, which this app does not
    export; fresh instances on our registry give `process_resident_memory_bytes`,
    `process_cpu_seconds_total`, `process_open_fds` and `python_gc_*` beside our series.
    """
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


def labelled(children: dict[tuple[object, ...], Any], metric: Any, **labels: str) -> Any:
    """`metric.labels(**labels)`, remembered in `children`: the lookup costs more than the sample.

    Only for labels from a small fixed set (routes, methods, statuses, versions, features).
    """
    key = (metric, *labels.values())
    child = children.get(key)
    if child is None:
        child = children[key] = metric.labels(**labels)
    return child


class MonitoringCollector(Collector):
    """The latest monitoring cycle, read from the monitoring state at scrape time.

    The store opens on the first scrape, not at startup, and a store that does not answer leaves
    the gauges empty for that scrape: monitoring never takes the API or its /metrics down.
    """

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._store: MonitoringStore | None = None
        self._lock = threading.Lock()

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            try:
                if self._store is None:
                    self._store = self.deployment.monitoring_store()
                found = self._store.latest()
            except Exception as exc:  # any store failure: this scrape goes without the gauges
                url = self.deployment.settings.resolved_monitoring_url
                logger.warning("monitoring state unavailable (%s): %s", url.split("@")[-1], exc)
                return None
            return None if found is None else found.model_dump()

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names only, so registering the collector does not open the store."""
        return self._families({})

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return self._families(self.latest() or {})

    def _families(self, latest: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
        families = {
            "titanic_drift_share": ("Share of drifted columns in the last window", "drift_share"),
            "titanic_drift_detected": ("1 when the last window drifted", "drift_detected"),
            "titanic_drifted_columns": ("Drifted columns in the last window", "drifted_columns"),
            "titanic_live_accuracy": ("Accuracy on labelled production feedback", "live_accuracy"),
            "titanic_monitor_last_run_timestamp_seconds": ("When monitoring last ran", "time"),
            "titanic_anomalous_share": ("Share of the last window flagged anomalous", "anomalous_share"),
        }
        for name, (help_text, key) in families.items():
            family = GaugeMetricFamily(name, help_text)
            value = latest.get(key)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                family.add_metric([], float(value))
            yield family
