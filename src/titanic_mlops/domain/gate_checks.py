"""The gate's checks and decision as records: what `promotion` decides, `records` stores and
`status` shows.

Apart from `promotion`, which computes them over numpy and pandas: the records are read back on
every `dvc repro` (`promote` on a version judged already) and by `status`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GateCheck(BaseModel):
    """One named check of the gate: what it compared, and the interval it judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    passed: bool
    detail: str
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    confidence: float | None = None
    p_value: float | None = None


class GateDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    promote: bool
    checks: list[GateCheck]

    @property
    def reason(self) -> str:
        failed = [c.detail for c in self.checks if not c.passed]
        if failed:
            return "refused: " + "; ".join(failed)
        return "promoted: " + "; ".join(c.detail for c in self.checks)
