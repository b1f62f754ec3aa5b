"""The canary split is sticky and near its share; guardrails drop a failing or slow challenger."""

from __future__ import annotations

import pytest

from titanic_mlops.domain import canary
from titanic_mlops.domain.canary import ArmHealth
from titanic_mlops.domain.params import Guardrails

RAILS = Guardrails(
    max_challenger_error_rate=0.01,
    max_latency_ratio=3.0,
    min_guardrail_requests=50,
    sample_ratio_p_value=0.001,
)


def test_the_same_passenger_always_gets_the_same_variant() -> None:
    first = [canary.canary_variant(pid, f"r{pid}", 0.1) for pid in range(1, 500)]
    again = [canary.canary_variant(pid, "another request", 0.1) for pid in range(1, 500)]
    assert first == again


def test_about_the_share_of_passengers_go_to_the_challenger() -> None:
    variants = [canary.canary_variant(pid, "r", 0.1) for pid in range(1, 20_001)]
    share = variants.count("challenger") / len(variants)
    assert 0.09 < share < 0.11


def test_a_request_without_passenger_id_is_routed_by_its_request_id() -> None:
    assert canary.routing_key(None, "abc") == "request:abc"
    routed = {canary.canary_variant(None, f"req-{i}", 0.5) for i in range(50)}
    assert routed == {"champion", "challenger"}
    assert canary.canary_variant(None, "req-7", 0.5) == canary.canary_variant(None, "req-7", 0.5)


def test_share_bounds() -> None:
    assert canary.canary_variant(3, "r", 0.0) == "champion"
    assert canary.canary_variant(3, "r", 1.0) == "challenger"
    with pytest.raises(ValueError, match="canary_share"):
        canary.canary_variant(3, "r", 1.5)


def test_guardrails_wait_for_enough_requests_then_drop_errors_and_slowness() -> None:
    champion = ArmHealth(requests=100, errors=0, latency_seconds=0.1)
    assert canary.guardrail_breach(champion, ArmHealth(10, 10, 0.0), RAILS) is None
    errors = canary.guardrail_breach(champion, ArmHealth(100, 5, 0.1), RAILS)
    assert errors is not None and "error rate 0.050" in errors
    slow = canary.guardrail_breach(champion, ArmHealth(100, 0, 0.5), RAILS)
    assert slow is not None and "latency 5.0x" in slow
    assert canary.guardrail_breach(champion, ArmHealth(100, 1, 0.2), RAILS) is None
