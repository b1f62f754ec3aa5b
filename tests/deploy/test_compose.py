"""docker/compose.yaml: every service, its port, health, storage and order; no password in git."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# service -> the container port it serves (docs/architecture.md "Ports", plus the stores)
SERVICES = {
    "api": 8000,
    "mlflow": 5000,
    "postgres": 5432,
    "redis": 6379,
    "prefect-server": 4200,
    "prefect-worker": None,  # polls the Prefect server; its health server stays inside
    "prometheus": 9090,
    "grafana": 3000,
    "evidently-ui": 8001,
}
DEPENDS_ON = {
    "api": {"mlflow", "postgres", "redis"},
    "mlflow": {"postgres"},
    "prefect-server": {"postgres"},
    "prefect-worker": {"prefect-server", "mlflow", "postgres", "redis"},
    "prometheus": {"api"},
    "grafana": {"prometheus"},
}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN")
REQUIRED_REF = re.compile(r"^\$\{(?P<var>[A-Z0-9_]+):\?[^}]+\}$")
VARIABLE = re.compile(r"\$\{(?P<var>[A-Z0-9_]+)(?P<op>:?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose_text(repo: Path) -> str:
    return (repo / "docker/compose.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(compose_text)
    return loaded


@pytest.fixture(scope="module")
def env_example(repo: Path) -> dict[str, str]:
    values = {}
    for line in (repo / "docker/.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(port).rsplit(":", 1)[-1].split("/")[0]) for port in service.get("ports", [])}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "use the mapping form of environment"
    return {key: str(value) for key, value in env.items()}


def test_every_service_exists_and_publishes_its_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == set(SERVICES)
    for name, port in SERVICES.items():
        if port is not None:
            assert port in _container_ports(services[name]), f"{name} does not publish {port}"
        for mapping in services[name].get("ports", []):
            # published on the chosen interface only (127.0.0.1 unless .env says otherwise)
            assert str(mapping).startswith("${BIND_ADDRESS:-127.0.0.1}:"), (name, mapping)


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"], f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_http_healthchecks_probe_the_served_port(compose: dict[str, Any]) -> None:
    for name, port in SERVICES.items():
        command = " ".join(compose["services"][name]["healthcheck"]["test"])
        if "http://" in command and port is not None:
            assert f"127.0.0.1:{port}/" in command, f"{name} probes another port: {command}"
    assert "/health" in " ".join(compose["services"]["api"]["healthcheck"]["test"])


def test_stateful_services_keep_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used: set[str] = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared, f"unused volumes: {declared - used}"
    for name in ("api", "mlflow", "postgres", "redis", "prometheus", "grafana"):
        named = [v for v in compose["services"][name]["volumes"] if not v.startswith((".", "/"))]
        assert named, f"{name} keeps its data in no named volume"


def test_dependencies_wait_for_healthy_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, expected in DEPENDS_ON.items():
        depends = services[name]["depends_on"]
        assert set(depends) == expected, name
        for dependency, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency]


def test_images_are_built_from_the_repository(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = services["api"]["build"]
    assert (api["context"], api["dockerfile"]) == ("..", "docker/Dockerfile")
    assert "BASE_IMAGE" in api["args"]
    assert services["mlflow"]["build"]["dockerfile"] == "docker/Dockerfile.mlflow"
    for name in ("prefect-server", "prefect-worker", "evidently-ui"):
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile.pipeline", name


def test_build_contexts_resolve_to_real_dockerfiles(compose: dict[str, Any], repo: Path) -> None:
    for name, service in compose["services"].items():
        if "build" in service and service["build"]["dockerfile"] != "docker/Dockerfile":
            # docker/Dockerfile (the API image) is written with the serving app
            context = (repo / "docker" / service["build"]["context"]).resolve()
            dockerfile = context / service["build"]["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
            assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile.read_text(encoding="utf-8")
            assert "--no-index --find-links /wheels" in dockerfile.read_text(encoding="utf-8")


def test_mlflow_serves_from_postgresql_with_one_worker(compose: dict[str, Any]) -> None:
    command = compose["services"]["mlflow"]["command"]
    store = command[command.index("--backend-store-uri") + 1]
    assert store.startswith("postgresql+psycopg://") and store.endswith("@postgres:5432/mlflow")
    assert command[command.index("--workers") + 1] == "1"
    assert "mlflow" in command[command.index("--allowed-hosts") + 1]


def test_monitoring_config_is_mounted(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]["volumes"]
    grafana = compose["services"]["grafana"]["volumes"]
    assert "../deploy/prometheus:/etc/prometheus:ro" in prometheus
    assert "../deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert any(v.startswith("../deploy/grafana/dashboards:") for v in grafana)


def test_secrets_are_required_references_never_literals(compose: dict[str, Any]) -> None:
    checked = 0
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if any(word in key for word in SECRET_WORDS):
                assert REQUIRED_REF.match(value), f"{name}.{key} must be ${{VAR:?...}}"
                checked += 1
    assert checked >= 4


def test_no_literal_password_anywhere(compose_text: str, env_example: dict[str, str]) -> None:
    # user:password@host in any URL must take the password from a required variable
    for match in re.finditer(r"://[^/\s:@]+:(?P<password>[^@\s]+)@", compose_text):
        assert REQUIRED_REF.match(match["password"]), match.group()
    # a --secret / --requirepass / *_PASSWORD= argument is a variable too
    for match in re.finditer(r"(--secret|--requirepass)\s*\n?\s*-?\s*(?P<value>\S+)", compose_text):
        assert match["value"].lstrip('"\\').startswith(("${", "$${")), match.group()
    for key, value in env_example.items():
        if any(word in key for word in SECRET_WORDS):
            assert value == "", f".env.example must leave {key} empty"


def test_env_example_names_every_variable(compose_text: str, env_example: dict[str, str]) -> None:
    text = re.sub(r"\$\$\{?[A-Z0-9_]+\}?", "", compose_text)  # container-side $$VARS
    variables = {match["var"] for match in VARIABLE.finditer(text)}
    assert variables, "no variables found"
    assert variables <= set(env_example), f"not in .env.example: {variables - set(env_example)}"
    required = {m["var"] for m in VARIABLE.finditer(text) if (m["op"] or "").startswith(":?")}
    assert required == {k for k in env_example if any(w in k for w in SECRET_WORDS)}


def test_env_file_is_ignored_by_git(repo: Path) -> None:
    ignore = (repo / "docker/.gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignore


@pytest.fixture(scope="module")
def docker_compose(require_tool: Callable[[str, str], str]) -> str:
    return require_tool("docker-compose", "apt-get install docker-compose (only parses, no engine)")


def _compose_config(
    docker_compose: str, repo: Path, tmp_path: Path, compose_text: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # Debian's docker-compose 1.29 predates the top-level `name:` key; everything else is checked.
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text(re.sub(r"(?m)^name: .*$", "", compose_text), encoding="utf-8")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    return subprocess.run(
        [docker_compose, "-f", str(compose_file), "--project-directory", str(repo / "docker"),
         "--env-file", str(env_file), "config", "-q"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip


def test_compose_file_is_valid(
    docker_compose: str,
    repo: Path,
    tmp_path: Path,
    compose_text: str,
    env_example: dict[str, str],
) -> None:
    filled = {
        k: (v or "test-only-value") if any(w in k for w in SECRET_WORDS) else v
        for k, v in env_example.items()
    }
    result = _compose_config(docker_compose, repo, tmp_path, compose_text, filled)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets(
    docker_compose: str,
    repo: Path,
    tmp_path: Path,
    compose_text: str,
    env_example: dict[str, str],
) -> None:
    result = _compose_config(docker_compose, repo, tmp_path, compose_text, env_example)
    assert result.returncode != 0
    assert "set it in .env" in result.stderr


def test_the_worker_serves_the_loop_deployments_on_the_stack_server(compose: dict[str, Any]) -> None:
    worker = compose["services"]["prefect-worker"]
    assert worker["command"][:2] == ["titanic-mlops", "worker"]
    workspace = worker["command"][worker["command"].index("--workspace") + 1]
    assert any(v.endswith(f":{workspace}") for v in worker["volumes"]), "the DVC workspace is mounted"
    env = worker["environment"]
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert env["PREFECT_RUNNER_SERVER_ENABLE"] == "true", "the healthcheck probes the runner's webserver"
    assert "TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS" in env
