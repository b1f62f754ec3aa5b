"""The served model and how it follows the alias: load beside the old one, check, then swap.

`AliasFollower.follow` answers what to serve after one poll; the caller (the API's runtime)
swaps it in with one assignment, so a request in flight keeps the model it started with. A
version that fails a check is refused and the old one serves on. A tracking server that does not
answer is no refusal: the poll says "error" and the next one retries.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from titanic_mlops.adapters.mlflow.registry import Registry, TrackingUnavailable, unavailable
from titanic_mlops.domain import features, golden
from titanic_mlops.domain.anomaly import Sidecar
from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.domain.versions import CHAMPION, ModelRef
from titanic_mlops.services.anomaly import Detector, Flags
from titanic_mlops.services.scoring import Engine, LoadedModel, load_model

logger = logging.getLogger(__name__)

ReloadResult = Literal["swapped", "unchanged", "refused", "error"]
ONNX_TOLERANCE = 1e-5


class CandidateRefused(TitanicMlopsError):
    """A registered version failed a check before serving; the reason names the check."""


@dataclass(frozen=True)
class ServingModel:
    """A checked model plus what `/model` shows about it (read once, at load)."""

    model: LoadedModel
    info: dict[str, Any]
    detector: Detector | None = None  # None for a version registered without a sidecar

    @property
    def version(self) -> str:
        return self.model.ref.version

    def anomalies(self, inputs: dict[str, np.ndarray]) -> Flags | None:
        """Per passenger: the outlier detector's score and flag (hook r14)."""
        return None if self.detector is None else self.detector.flags(inputs)


def check_candidate(registry: Registry, ref: ModelRef, engine: Engine) -> ServingModel:
    """Load `ref` (the registry verifies its hash) and prove it scores the golden set sanely."""
    try:
        info = registry.describe(ref)
        declared = info["lineage"].get("feature_names")
        if declared is not None and tuple(declared.split(",")) != features.MODEL_INPUTS:
            raise CandidateRefused(f"{ref.uri}: its model inputs {declared!r} differ from the served ones")
        model = load_model(registry, ref, engine)
        _check_golden(registry, ref, model)
        sidecar = registry.load_sidecar(ref)  # hash-checked; a tampered sidecar refuses the version
        detector = None if sidecar is None else Detector(Sidecar.from_json(sidecar))
    except CandidateRefused:
        raise
    except Exception as exc:  # any failure to load or predict refuses the version...
        if unavailable(exc):  # ...but a server that does not answer says nothing about the version
            raise TrackingUnavailable(f"{ref.uri}: {type(exc).__name__}: {exc}") from exc
        raise CandidateRefused(f"{ref.uri}: {type(exc).__name__}: {exc}") from exc
    return ServingModel(model, {**info, "engine": engine, "loaded_at": model.loaded_at}, detector)


def _check_golden(registry: Registry, ref: ModelRef, model: LoadedModel) -> None:
    """Finite probabilities in [0, 1] for every golden passenger; ONNX equal to scikit-learn."""
    inputs = golden.golden_inputs()
    probability = model.probabilities(inputs)
    if probability.shape != (len(golden.GOLDEN_RECORDS),) or not np.all(np.isfinite(probability)):
        raise CandidateRefused(f"{ref.uri}: golden-set probabilities are not finite")
    if np.any((probability < 0) | (probability > 1)):
        raise CandidateRefused(f"{ref.uri}: golden-set probabilities fall outside [0, 1]")
    if model.engine == "onnx":
        reference = load_model(registry, ref, "sklearn").probabilities(inputs)
        gap = float(np.max(np.abs(reference - probability)))
        if gap > ONNX_TOLERANCE:
            raise CandidateRefused(
                f"{ref.uri}: ONNX differs from the scikit-learn pipeline by {gap:.2e} on the golden set"
            )


@dataclass(frozen=True)
class Refusal:
    version: str
    reason: str
    at: float


@dataclass(frozen=True)
class Followed:
    """One poll's outcome and the model to serve after it (the new one on a swap)."""

    result: ReloadResult
    model: ServingModel | None


class AliasFollower:
    """Follows one alias, one reload at a time; remembers a refused version and an outage."""

    def __init__(self, registry: Registry, engine: Engine, alias: str = CHAMPION) -> None:
        self.registry = registry
        self.engine = engine
        self.alias = alias
        self.refused: Refusal | None = None
        self.unavailable_since: float | None = None  # when the tracking server stopped answering
        self._reload = threading.Lock()

    def follow(self, current: ServingModel | None, force: bool = False) -> Followed:
        """Load the alias's version if it moved from `current`; `force` retries a refused one.

        "error" when the tracking server does not answer: logged once per outage, not a traceback
        per poll; `current`, if any, keeps serving.
        """
        with self._reload:
            try:
                followed = self._follow(current, force)
            except TrackingUnavailable as exc:
                if self.unavailable_since is None:
                    self.unavailable_since = time.time()
                    logger.warning(
                        "tracking server unavailable, still serving %s (polling on): %s",
                        _version(current),
                        exc,
                    )
                else:
                    logger.debug("tracking server still unavailable: %s", exc)
                return Followed("error", current)
            if self.unavailable_since is not None:
                down = time.time() - self.unavailable_since
                logger.info("tracking server answers again after %.0f s", down)
                self.unavailable_since = None
            return followed

    def _follow(self, current: ServingModel | None, force: bool) -> Followed:
        self.registry.probe()
        ref = self.registry.alias(self.alias)
        if ref is None:
            logger.warning("no version of %s has alias %s", self.registry.model_name, self.alias)
            return Followed("unchanged", current)
        if current is not None and current.version == ref.version:
            return Followed("unchanged", current)
        if not force and self.refused is not None and self.refused.version == ref.version:
            return Followed("unchanged", current)
        try:
            candidate = check_candidate(self.registry, ref, self.engine)
        except CandidateRefused as exc:
            self.refused = Refusal(ref.version, str(exc), time.time())
            logger.error("refused %s: %s (still serving %s)", ref.uri, exc, _version(current))
            return Followed("refused", current)
        self.refused = None
        logger.info("swapping %s -> %s (%s)", _version(current), ref.uri, self.engine)
        return Followed("swapped", candidate)


def _version(model: ServingModel | None) -> str:
    return "nothing" if model is None else model.model.ref.uri
