"""The served model and its live swap: load beside the old one, check, swap in one assignment.

Requests read `ModelHolder.current` once and keep that reference, so a swap never changes the
model under a request in flight; a version that fails a check is refused and the old one serves on.
A tracking server that does not answer is no refusal: the poll says "error" and the next one retries.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from titanic_mlops import features, golden, prediction, request_features
from titanic_mlops.errors import TitanicMlopsError
from titanic_mlops.registry import CHAMPION, ModelRef, Registry, TrackingUnavailable, unavailable

logger = logging.getLogger(__name__)

ReloadResult = Literal["swapped", "unchanged", "refused", "error"]
ONNX_TOLERANCE = 1e-5


class CandidateRefused(TitanicMlopsError):
    """A registered version failed a check before serving; the reason names the check."""


@dataclass(frozen=True)
class ServingModel:
    """A checked model plus what `/model` shows about it (read once, at load)."""

    model: prediction.LoadedModel
    info: dict[str, Any]

    @property
    def version(self) -> str:
        return self.model.ref.version


def check_candidate(registry: Registry, ref: ModelRef, engine: prediction.Engine) -> ServingModel:
    """Load `ref` (the registry verifies its hash) and prove it scores the golden set sanely."""
    try:
        info = registry.describe(ref)
        declared = info["lineage"].get("feature_names")
        if declared is not None and tuple(declared.split(",")) != features.MODEL_FEATURES:
            raise CandidateRefused(f"{ref.uri}: its features {declared!r} differ from the served ones")
        model = prediction.load_model(registry, ref, engine)
        frame = golden.golden_frame()
        probability = model.probabilities(frame)
        if isinstance(model.scorer, request_features.ColumnScorer):  # the path /predict takes
            columns = request_features.vectors_columns(golden.golden_vectors())
            gap = float(np.max(np.abs(model.scorer.predict_columns(columns) - probability)))
            if gap > 0:
                raise CandidateRefused(
                    f"{ref.uri}: the columnar ONNX path differs from the frame path by {gap:.2e}"
                )
        if probability.shape != (len(frame),) or not np.all(np.isfinite(probability)):
            raise CandidateRefused(f"{ref.uri}: golden-set probabilities are not finite")
        if np.any((probability < 0) | (probability > 1)):
            raise CandidateRefused(f"{ref.uri}: golden-set probabilities fall outside [0, 1]")
        if engine == "onnx":
            reference = prediction.load_model(registry, ref, "sklearn").probabilities(frame)
            gap = float(np.max(np.abs(reference - probability)))
            if gap > ONNX_TOLERANCE:
                raise CandidateRefused(
                    f"{ref.uri}: ONNX differs from the scikit-learn pipeline by {gap:.2e} on the golden set"
                )
    except CandidateRefused:
        raise
    except Exception as exc:  # any failure to load or predict refuses the version...
        if unavailable(exc):  # ...but a server that does not answer says nothing about the version
            raise TrackingUnavailable(f"{ref.uri}: {type(exc).__name__}: {exc}") from exc
        raise CandidateRefused(f"{ref.uri}: {type(exc).__name__}: {exc}") from exc
    return ServingModel(model, {**info, "engine": engine, "loaded_at": model.loaded_at})


@dataclass(frozen=True)
class Refusal:
    version: str
    reason: str
    at: float


class ModelHolder:
    """The one reference requests read; `refresh` follows the alias, one reload at a time."""

    def __init__(self, registry: Registry, engine: prediction.Engine, alias: str = CHAMPION) -> None:
        self.registry = registry
        self.engine = engine
        self.alias = alias
        self.current: ServingModel | None = None
        self.refused: Refusal | None = None
        self.unavailable_since: float | None = None  # when the tracking server stopped answering
        self._reload = threading.Lock()

    def refresh(self, force: bool = False) -> ReloadResult:
        """Swap to the alias's version if it moved; `force` retries a version refused before.

        "error" when the tracking server does not answer: logged once per outage, not a traceback
        per poll; the current model, if any, keeps serving.
        """
        with self._reload:
            try:
                result = self._follow(force)
            except TrackingUnavailable as exc:
                if self.unavailable_since is None:
                    self.unavailable_since = time.time()
                    logger.warning(
                        "tracking server unavailable, still serving %s (polling on): %s",
                        _version(self.current),
                        exc,
                    )
                else:
                    logger.debug("tracking server still unavailable: %s", exc)
                return "error"
            if self.unavailable_since is not None:
                down = time.time() - self.unavailable_since
                logger.info("tracking server answers again after %.0f s", down)
                self.unavailable_since = None
            return result

    def _follow(self, force: bool) -> ReloadResult:
        self.registry.probe()
        ref = self.registry.alias(self.alias)
        if ref is None:
            logger.warning("no version of %s has alias %s", self.registry.model_name, self.alias)
            return "unchanged"
        current = self.current
        if current is not None and current.version == ref.version:
            return "unchanged"
        if not force and self.refused is not None and self.refused.version == ref.version:
            return "unchanged"
        try:
            candidate = check_candidate(self.registry, ref, self.engine)
        except CandidateRefused as exc:
            self.refused = Refusal(ref.version, str(exc), time.time())
            logger.error("refused %s: %s (still serving %s)", ref.uri, exc, _version(current))
            return "refused"
        self.current = candidate  # the swap: one reference assignment
        self.refused = None
        logger.info("swapped %s -> %s (%s)", _version(current), ref.uri, self.engine)
        return "swapped"


def _version(model: ServingModel | None) -> str:
    return "nothing" if model is None else model.model.ref.uri
