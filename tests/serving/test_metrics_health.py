"""`/metrics` carries the process's health (CPU, memory, open files, GC) on the app's own registry."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from prometheus_client import generate_latest

from serving.metrics import Metrics


class _NoCycles:
    def latest(self) -> None:
        return None

    def close(self) -> None:
        return None


def _metrics() -> Metrics:
    deployment: Any = SimpleNamespace(
        monitoring_store=_NoCycles, settings=SimpleNamespace(resolved_monitoring_url="file:///none")
    )
    return Metrics(deployment)


def test_process_and_gc_collectors_are_on_the_app_registry() -> None:
    text = generate_latest(_metrics().registry).decode()
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"):
        assert re.search(rf"^{name} [0-9.e+]+$", text, flags=re.MULTILINE), name
    assert re.search(r'^python_gc_collections_total\{generation="0"\} ', text, flags=re.MULTILINE)
    resident = float(re.findall(r"^process_resident_memory_bytes (\S+)$", text, flags=re.MULTILINE)[0])
    assert resident > 10e6  # a Python process with pandas loaded holds tens of MB


def test_two_apps_in_one_process_each_get_their_own_collectors() -> None:
    first, second = _metrics(), _metrics()  # a shared collector would raise "Duplicated timeseries"
    assert "process_cpu_seconds_total" in generate_latest(first.registry).decode()
    assert "process_cpu_seconds_total" in generate_latest(second.registry).decode()
