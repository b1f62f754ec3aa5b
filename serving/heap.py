"""The serving process's heap, settled after each model load so the garbage collector leaves it be.

After the imports and a model load, the process holds millions of long-lived objects (mlflow,
Feast, pandas, scikit-learn, shap and the model itself). CPython's full (generation 2) collection
walks all of them: 200-600 ms on these 2 cores, stalling every request in flight. Under steady
/predict traffic one fell due within 90 s of load (~28,000 requests; docs/serving.md, "The
garbage collector"). `gc.freeze()` moves what is alive into a permanent generation that no
collection walks, so later collections see only what requests allocate. Each settle unfreezes
first, so the previous model's reference cycles are collected rather than kept forever: one
collection per model swap, in the poll's thread, instead of one whenever it falls due under load.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Settled:
    frozen: int  # objects in the permanent generation after the settle
    collected: int  # unreachable objects the settle's collection freed
    pause_ms: float


def settle() -> Settled:
    """Collect everything once, then freeze what survives."""
    start = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    return Settled(gc.get_freeze_count(), collected, (time.perf_counter() - start) * 1000)
