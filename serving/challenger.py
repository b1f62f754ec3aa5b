"""The challenger beside the champion: loaded with the same checks, in shadow or on a canary share.

Serving follows the running experiment (services/experiment.py's state file), not the bare
`challenger` alias, so a candidate the gate refused is never loaded. The challenger scores the
champion's model inputs (one feature computation per request). Shadow: the champion answers,
the challenger's score goes to the shadow log under the champion's prediction id. Canary: a
SHA-256 of the PassengerId (the request id without one) picks the variant, sticky per
passenger, and each prediction names its version. Any challenger failure is caught and counted:
the champion's answer never waits on it, and a guardrail breach drops the challenger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram

from serving.http import request_id
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.config.layout import StateLayout
from titanic_mlops.domain import canary
from titanic_mlops.domain.canary import ArmHealth, Variant
from titanic_mlops.domain.evaluation import predicted
from titanic_mlops.domain.experiment_records import ExperimentState
from titanic_mlops.services import experiment
from titanic_mlops.services.scoring import Engine, Scoring
from titanic_mlops.services.served_model import CandidateRefused, ServingModel, check_candidate
from titanic_mlops.stores.shadow_log import ShadowLog, ShadowPrediction

logger = logging.getLogger("serving")
Log = Callable[[Request, Any, Scoring, list[dict[str, Any]]], Awaitable[list[int]]]
Answer = Callable[[Scoring, list[int]], dict[str, Any]]
_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


@dataclass(frozen=True)
class Loaded:
    model: ServingModel
    state: ExperimentState


class ChallengerSlot:
    """What serving knows about the experiment: the loaded challenger and each arm's health."""

    def __init__(
        self,
        registry: Registry,
        engine: Engine,
        paths: StateLayout,
        metrics: CollectorRegistry,
    ) -> None:
        self.registry, self.engine, self.paths = registry, engine, paths
        self._shadow: ShadowLog | None = None  # opened with the first challenger: mode off adds no file
        self.current: Loaded | None = None
        self.dropped: dict[str, str] = {}
        self._health: dict[Variant, ArmHealth] = {}
        self._lock = threading.Lock()
        self.predictions = Counter(
            "titanic_experiment_predictions", "Predictions by experiment variant",
            ["variant", "model_version"], registry=metrics,
        )  # fmt: skip
        self.scoring_seconds = Histogram(
            "titanic_experiment_scoring_seconds", "Model scoring time by experiment variant",
            ["variant"], buckets=_BUCKETS, registry=metrics,
        )  # fmt: skip
        self.errors = Counter("titanic_experiment_errors", "Challenger scoring failures", registry=metrics)

    def refresh(self) -> None:
        """One poll: load the running experiment's challenger (checked), or serve the champion alone."""
        state = experiment.read_state(self.paths)
        if state is None or not state.running or state.params.mode == "off":
            self._set(None)
            return
        version = state.challenger_version
        current = self.current
        if current is not None and current.model.version == version:
            self.current = Loaded(current.model, state)
            return
        if version in self.dropped:
            self._set(None)
            return
        try:
            model = check_candidate(self.registry, self.registry.version(version), self.engine)
        except CandidateRefused as exc:
            self.drop(version, f"refused at load: {exc}")
            return
        if self._shadow is None:
            self._shadow = ShadowLog(self.paths.shadow_log)
        logger.info("challenger %s loaded beside the champion (%s)", version, state.params.mode)
        self._set(Loaded(model, state))

    def _set(self, loaded: Loaded | None) -> None:
        with self._lock:
            self.current = loaded
            self._health = {v: ArmHealth(0, 0, 0.0) for v in ("champion", "challenger")}

    def drop(self, version: str, reason: str) -> None:
        """The champion serves alone from now on; the next monitoring cycle rejects the challenger."""
        logger.error("challenger %s dropped: %s", version, reason)
        self.dropped[version] = reason
        self._set(None)
        experiment.record_guardrail(self.paths, version, reason)

    def observe(self, variant: Variant, seconds: float, failed: bool) -> None:
        loaded = self.current
        if loaded is None:
            return
        with self._lock:
            old = self._health.get(variant, ArmHealth(0, 0, 0.0))
            self._health[variant] = ArmHealth(
                old.requests + 1, old.errors + int(failed), old.latency_seconds + seconds
            )
            health = dict(self._health)
        self.scoring_seconds.labels(variant=variant).observe(seconds)
        breach = canary.guardrail_breach(
            health["champion"], health["challenger"], loaded.state.params.guardrails
        )
        if breach is not None:
            self.drop(loaded.model.version, breach)

    def score(self, loaded: Loaded, scored: Scoring) -> np.ndarray | None:
        """The challenger's P(survived) on the champion's inputs; None (counted) if it fails."""
        began = time.perf_counter()
        try:
            probability = np.asarray(loaded.model.model.probabilities(scored.inputs), dtype="float64")
            if probability.shape != (len(scored),) or not np.all(np.isfinite(probability)):
                raise ValueError(f"challenger returned {probability.shape} non-finite or mis-shaped scores")
        except Exception:
            logger.exception("challenger %s failed to score; the champion answers", loaded.model.version)
            self.errors.inc()
            self.observe("challenger", time.perf_counter() - began, failed=True)
            return None
        self.observe("challenger", time.perf_counter() - began, failed=False)
        return probability

    def info(self) -> dict[str, Any]:
        """What `/model` shows under `experiment`."""
        loaded = self.current
        if loaded is None:
            return {"mode": None, "challenger": None, "dropped": self.dropped or None}
        keys = ("name", "version", "run_id", "engine", "loaded_at")
        return {
            "mode": loaded.state.params.mode,
            "canary_share": loaded.state.params.canary_share,
            "challenger": {k: loaded.model.info[k] for k in keys},
            "dropped": self.dropped or None,
        }

    @property
    def shadow(self) -> ShadowLog:
        if self._shadow is None:
            raise RuntimeError("no challenger was loaded: the shadow log is not open")
        return self._shadow

    def close(self) -> None:
        if self._shadow is not None:
            self._shadow.close()


async def serve(
    slot: ChallengerSlot,
    request: Request,
    runtime: Any,
    scored: Scoring,
    records: list[dict[str, Any]],
    log: Log,
    answer: Answer,
) -> dict[str, Any] | None:
    """The /predict body when an experiment runs (None: serve as without one)."""
    loaded = slot.current
    if loaded is None:
        return None
    started = request.scope.get("state", {}).get("started")  # set by the Observe middleware
    slot.observe("champion", time.perf_counter() - float(started) if started else 0.0, failed=False)
    probability = slot.score(loaded, scored)
    if probability is None:
        return None
    if loaded.state.params.mode == "canary":
        return await _canary(loaded, request, runtime, scored, records, probability, log, answer, slot)
    ids = await log(request, runtime, scored, records)
    version = loaded.model.version
    survived = predicted(probability).tolist()
    slot.shadow.append(
        [
            ShadowPrediction(pid, "challenger", version, p, s, 0.0)
            for pid, p, s in zip(ids, probability.tolist(), survived, strict=True)
        ]
    )
    slot.predictions.labels(variant="champion", model_version=scored.model.version).inc(len(ids))
    slot.predictions.labels(variant="shadow", model_version=version).inc(len(ids))
    body = answer(scored, ids)
    for entry in body["predictions"]:
        entry["model_version"] = scored.model.version
    return body


def _subset(scored: Scoring, rows: np.ndarray, ref: Any, probability: np.ndarray) -> Scoring:
    return Scoring(
        ref,
        [scored.passenger_ids[i] for i in rows],
        {name: column[rows] for name, column in scored.inputs.items()},
        probability[rows],
    )


async def _canary(
    loaded: Loaded,
    request: Request,
    runtime: Any,
    scored: Scoring,
    records: list[dict[str, Any]],
    challenger: np.ndarray,
    log: Log,
    answer: Answer,
    slot: ChallengerSlot,
) -> dict[str, Any]:
    """Each passenger answered by its sticky variant; each prediction names its version."""
    share, rid = loaded.state.params.canary_share, request_id(request)
    on = np.array([canary.canary_variant(pid, rid, share) == "challenger" for pid in scored.passenger_ids])
    entries: list[dict[str, Any]] = [{} for _ in records]
    for variant, mask in (("champion", ~on), ("challenger", on)):
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        ref = scored.model if variant == "champion" else loaded.model.model.ref
        part = _subset(scored, rows, ref, scored.probability if variant == "champion" else challenger)
        ids = await log(request, runtime, part, [records[i] for i in rows])
        slot.predictions.labels(variant=variant, model_version=ref.version).inc(len(ids))
        for i, entry in zip(rows.tolist(), answer(part, ids)["predictions"], strict=True):
            entries[i] = {**entry, "model_version": ref.version}
    versions = {e["model_version"] for e in entries}
    return {
        "model_name": scored.model.name,
        "model_version": versions.pop() if len(versions) == 1 else scored.model.version,
        "predictions": entries,
    }
