"""Prometheus rules and the Grafana dashboard query only the metrics docs/architecture.md names."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

BUILTIN_METRICS = {"up"}  # set by Prometheus itself for every scrape target
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "atan2",
}  # fmt: skip
SEVERITIES = {"info", "warning", "critical"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels, keywords removed)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', " ", expr)  # label values and string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors and subqueries
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # grouping label lists
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables ($__rate_interval, ...)
    text = re.sub(r"(?<![\w:.])\d+(\.\d+)?([eE][+-]?\d+)?(ms|s|m|h|d|w|y)?\b", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def undocumented(names: set[str], documented: dict[str, str]) -> set[str]:
    allowed = set(documented) | BUILTIN_METRICS
    for name, kind in documented.items():
        if kind.startswith("histogram"):
            allowed |= {name + suffix for suffix in HISTOGRAM_SUFFIXES}
    return names - allowed


def base_name(name: str, documented: dict[str, str]) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in documented:
            return name.removesuffix(suffix)
    return name


@pytest.fixture(scope="module")
def alert_rules(repo: Path) -> dict[str, Any]:
    rules: dict[str, Any] = yaml.safe_load(
        (repo / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8")
    )
    return rules


@pytest.fixture(scope="module")
def dashboard(repo: Path) -> dict[str, Any]:
    path = repo / "deploy/grafana/dashboards/titanic-mlops.json"
    board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return board


def _rules(alert_rules: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for group in alert_rules["groups"]:
        yield from group["rules"]


def _alerts(alert_rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in _rules(alert_rules)}


def _panel_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


# --- the checker itself ----------------------------------------------------------------------


def test_metric_names_strips_functions_labels_and_keywords() -> None:
    expr = (
        'sum by (le) (rate(a_seconds_bucket{route=~"/p.*"}[5m] offset 1h)) / ignoring(x) '
        "b_total > bool 1e-3 and on(job) up == 0 unless $__rate_interval"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "up"}
    assert metric_names("time() - max(c_seconds)") == {"c_seconds"}


def test_undocumented_names_are_caught(documented_metrics: dict[str, str]) -> None:
    names = {"titanic_made_up_total", "titanic_predictions_total_bucket", "up"}
    assert undocumented(names, documented_metrics) == {
        "titanic_made_up_total",
        "titanic_predictions_total_bucket",  # a counter has no buckets
    }
    assert not undocumented({"titanic_prediction_probability_bucket"}, documented_metrics)


# --- alert rules ------------------------------------------------------------------------------


def test_alert_rules_have_what_prometheus_requires(alert_rules: dict[str, Any]) -> None:
    groups = alert_rules["groups"]
    assert groups, "no rule groups"
    names = [group["name"] for group in groups]
    assert len(names) == len(set(names)), "group names must be unique"
    for group in groups:
        assert set(group) <= {"name", "interval", "limit", "rules"}, group["name"]
        assert group["rules"], group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"]), rule["alert"]
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert DURATION.match(rule.get("for", "0s")), rule["alert"]
            assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]


def test_alert_expressions_use_only_documented_metrics(
    alert_rules: dict[str, Any], documented_metrics: dict[str, str]
) -> None:
    for rule in _rules(alert_rules):
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']} selects no metric"
        assert not undocumented(names, documented_metrics), rule["alert"]


@pytest.mark.parametrize(
    ("alert", "must_contain"),
    [
        ("TitanicDataDriftDetected", ["titanic_drift_detected", "== 1"]),
        ("TitanicLiveAccuracyBelowFloor", ["titanic_live_accuracy", "<"]),
        ("TitanicHighErrorRate", ["titanic_http_requests_total", 'status=~"5.."', "/"]),
        (
            "TitanicHighLatencyP99",
            ["histogram_quantile(0.99", "titanic_http_request_duration_seconds_bucket"],
        ),
        ("TitanicModelStale", ["time()", "titanic_model_loaded_timestamp_seconds"]),
        ("TitanicApiDown", ["up{", "== 0"]),
        ("TitanicRegistryUnreachable", ['titanic_model_reloads_total{result="error"}', "and"]),
        ("TitanicOnlineStoreLost", ["titanic_online_store_ok", "== 0"]),
        ("TitanicAnomalySurge", ["titanic_anomalous_predictions_total", "titanic_predictions_total", "/"]),
        ("TitanicMemoryGrowth", ["process_resident_memory_bytes", "deriv("]),
        ("TitanicCpuSaturated", ["rate(process_cpu_seconds_total"]),
    ],
)
def test_each_required_alert_exists(alert_rules: dict[str, Any], alert: str, must_contain: list[str]) -> None:
    alerts = _alerts(alert_rules)
    assert alert in alerts, f"missing alert {alert}"
    expr = " ".join(alerts[alert]["expr"].split())
    for fragment in must_contain:
        assert fragment in expr, f"{alert}: {fragment!r} not in {expr!r}"


def test_quality_floor_matches_params(alert_rules: dict[str, Any], repo: Path) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    expr = _alerts(alert_rules)["TitanicLiveAccuracyBelowFloor"]["expr"]
    floor = float(expr.split("<")[-1])
    assert floor == pytest.approx(params["monitor"]["quality_floor"])


def test_prometheus_scrapes_the_api_and_loads_the_rules(repo: Path) -> None:
    folder = repo / "deploy/prometheus"
    config = yaml.safe_load((folder / "prometheus.yml").read_text(encoding="utf-8"))
    assert [(folder / path).resolve() for path in config["rule_files"]] == [(folder / "alerts.yml").resolve()]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["titanic-mlops-api"]
    assert api.get("metrics_path", "/metrics") == "/metrics"
    assert [t for sc in api["static_configs"] for t in sc["targets"]] == ["api:8000"]
    rules = yaml.safe_load((folder / "alerts.yml").read_text(encoding="utf-8"))
    assert 'job="titanic-mlops-api"' in _alerts(rules)["TitanicApiDown"]["expr"]  # same job


@pytest.fixture(scope="module")
def promtool(require_tool: Callable[[str, str], str]) -> str:
    return require_tool("promtool", "apt-get install prometheus (Debian ships promtool in it)")


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "deploy/prometheus/prometheus.yml"],
        ["check", "rules", "deploy/prometheus/alerts.yml"],
        ["test", "rules", "tests/deploy/promtool/alerts_test.yml"],
    ],
    ids=["check-config", "check-rules", "test-rules"],
)
def test_promtool_accepts(promtool: str, repo: Path, args: list[str]) -> None:
    result = subprocess.run([promtool, *args], cwd=repo, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- Grafana ----------------------------------------------------------------------------------


def test_dashboard_expressions_use_only_documented_metrics(
    dashboard: dict[str, Any], documented_metrics: dict[str, str]
) -> None:
    for title, expr in _panel_exprs(dashboard):
        names = metric_names(expr)
        assert names, f"panel {title!r} selects no metric"
        assert not undocumented(names, documented_metrics), title


def test_dashboard_shows_every_documented_metric(
    dashboard: dict[str, Any], documented_metrics: dict[str, str]
) -> None:
    shown = {
        base_name(name, documented_metrics)
        for _, expr in _panel_exprs(dashboard)
        for name in metric_names(expr)
    }
    missing = set(documented_metrics) - shown
    assert not missing, f"add a panel for {sorted(missing)}"


def test_every_panel_queries_the_provisioned_datasource(dashboard: dict[str, Any], repo: Path) -> None:
    provisioning = yaml.safe_load(
        (repo / "deploy/grafana/provisioning/datasources/prometheus.yaml").read_text(encoding="utf-8")
    )
    (source,) = provisioning["datasources"]
    expected = {"type": source["type"], "uid": source["uid"]}
    assert dashboard["panels"], "the dashboard has no panels"
    for panel in dashboard["panels"]:
        assert panel.get("datasource") == expected, panel["title"]
        assert panel.get("targets"), f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target.get("datasource", expected) == expected, panel["title"]
            assert target["expr"].strip() and target["refId"], panel["title"]


def test_dashboard_is_well_formed(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "titanic-mlops"
    assert dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["h"] > 0
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']!r} is wider than the grid"
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']!r} overlaps another panel"
        cells |= area


def test_grafana_provisioning_matches_the_compose_stack(repo: Path) -> None:
    grafana = repo / "deploy/grafana/provisioning"
    source = yaml.safe_load((grafana / "datasources/prometheus.yaml").read_text("utf-8"))
    providers = yaml.safe_load((grafana / "dashboards/titanic-mlops.yaml").read_text("utf-8"))
    compose = yaml.safe_load((repo / "docker/compose.yaml").read_text(encoding="utf-8"))
    assert source["apiVersion"] == 1 and providers["apiVersion"] == 1
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]
    mounts = {
        volume.split(":")[0]: volume.split(":")[1] for volume in compose["services"]["grafana"]["volumes"]
    }
    (provider,) = providers["providers"]
    assert mounts["../deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["../deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
