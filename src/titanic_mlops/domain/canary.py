"""Which variant answers a passenger, and when the challenger breaks a guardrail: pure rules.

The canary split hashes the PassengerId (the request id when there is none) with SHA-256, not
Python's `hash`, so the same passenger lands on the same variant in every process and after
every restart: sticky without a session table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

from titanic_mlops.domain.params import Guardrails

Variant = Literal["champion", "challenger"]
CHAMPION_VARIANT: Final = "champion"
CHALLENGER_VARIANT: Final = "challenger"
_SCALE: Final = float(1 << 64)


def routing_key(passenger_id: int | None, request_id: str) -> str:
    return f"passenger:{passenger_id}" if passenger_id is not None else f"request:{request_id}"


def bucket(key: str) -> float:
    """A uniform number in [0, 1) that depends on `key` only."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def canary_variant(passenger_id: int | None, request_id: str, share: float) -> Variant:
    """`share` of the keys go to the challenger, the same key always to the same variant."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"canary_share must be in [0, 1], got {share}")
    return CHALLENGER_VARIANT if bucket(routing_key(passenger_id, request_id)) < share else CHAMPION_VARIANT


@dataclass(frozen=True)
class ArmHealth:
    """What serving counted for one variant since the challenger was loaded."""

    requests: int
    errors: int
    latency_seconds: float


def guardrail_breach(champion: ArmHealth, challenger: ArmHealth, rails: Guardrails) -> str | None:
    """Why the challenger must be dropped, or None; judged only past `min_guardrail_requests`."""
    if challenger.requests < rails.min_guardrail_requests:
        return None
    rate = challenger.errors / challenger.requests
    if rate > rails.max_challenger_error_rate:
        return (
            f"challenger error rate {rate:.3f} over {challenger.requests} requests exceeds "
            f"{rails.max_challenger_error_rate}"
        )
    served = challenger.requests - challenger.errors
    if champion.requests == 0 or served == 0 or champion.latency_seconds == 0:
        return None
    ratio = (challenger.latency_seconds / served) / (champion.latency_seconds / champion.requests)
    if ratio > rails.max_latency_ratio:
        return f"challenger latency {ratio:.1f}x the champion's exceeds {rails.max_latency_ratio}x"
    return None
