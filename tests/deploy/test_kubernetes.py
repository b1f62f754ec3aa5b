"""The Kubernetes overlays render, validate strictly offline, and keep the serving contract."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes_validate import utils as kv

KUBERNETES_VERSION = "1.32.0"  # the oldest minor we support; kubectl on the machines is 1.32
OVERLAYS = ["dev", "prod"]
API_PORT = 8000
APP = "titanic-mlops-api"

Manifest = dict[str, Any]


def _render(kubectl: str, directory: Path) -> list[Manifest]:
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def kubectl(require_tool: Callable[[str, str], str]) -> str:
    return require_tool("kubectl", "kubectl >= 1.27 (built-in kustomize v5)")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, kubectl: str, repo: Path) -> tuple[str, list[Manifest]]:
    name: str = request.param
    return name, _render(kubectl, repo / "deploy" / "kubernetes" / "overlays" / name)


def _one(manifests: list[Manifest], kind: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _container(manifests: list[Manifest]) -> Manifest:
    containers = _one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: Manifest = containers[0]
    return container


def _port_number(container: Manifest, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in named, f"named port {port!r} is not declared by the container"
    return int(named[port])


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def test_base_renders_on_its_own(kubectl: str, repo: Path) -> None:
    kinds = {m["kind"] for m in _render(kubectl, repo / "deploy" / "kubernetes" / "base")}
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_every_manifest_validates_strictly(overlay: tuple[str, list[Manifest]]) -> None:
    _, manifests = overlay
    assert len(manifests) == 6
    for manifest in manifests:
        kv.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_an_unknown_field(overlay: tuple[str, list[Manifest]]) -> None:
    broken = copy.deepcopy(_one(overlay[1], "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, KUBERNETES_VERSION, strict=True)


def test_all_objects_live_in_the_overlay_namespace(overlay: tuple[str, list[Manifest]]) -> None:
    name, manifests = overlay
    namespace = _one(manifests, "Namespace")["metadata"]["name"]
    assert namespace == ("titanic-mlops-dev" if name == "dev" else "titanic-mlops")
    labels = _one(manifests, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for manifest in manifests:
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == namespace, manifest["kind"]


def test_probes_hit_health_and_ready_on_the_api_port(overlay: tuple[str, list[Manifest]]) -> None:
    container = _container(overlay[1])
    assert [p["containerPort"] for p in container["ports"]] == [API_PORT]
    expected = {"startupProbe": "/health", "livenessProbe": "/health", "readinessProbe": "/ready"}
    for probe, path in expected.items():
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path, probe
        assert _port_number(container, http_get["port"]) == API_PORT, probe


def test_container_and_pod_are_hardened(overlay: tuple[str, list[Manifest]]) -> None:
    pod = _one(overlay[1], "Deployment")["spec"]["template"]["spec"]
    container = _container(overlay[1])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65534
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 65534
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_writable_paths_are_empty_dirs(overlay: tuple[str, list[Manifest]]) -> None:
    pod = _one(overlay[1], "Deployment")["spec"]["template"]["spec"]
    config = _one(overlay[1], "ConfigMap")["data"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in _container(overlay[1])["volumeMounts"]}
    for path in ("/tmp", config["TITANIC_MLOPS_STATE_DIR"]):
        assert path in mounts, f"{path} is not writable under readOnlyRootFilesystem"
        assert "emptyDir" in volumes[mounts[path]]


def test_settings_come_from_the_configmap_and_the_secret(
    overlay: tuple[str, list[Manifest]], documented_settings: set[str]
) -> None:
    manifests = overlay[1]
    config = _one(manifests, "ConfigMap")
    container = _container(manifests)
    assert config["metadata"]["name"] == "titanic-mlops-config"
    assert container["envFrom"] == [{"configMapRef": {"name": "titanic-mlops-config"}}]
    assert config["data"]["TITANIC_MLOPS_STATE_DIR"] == "/var/lib/titanic-mlops"
    required = {
        "TITANIC_MLOPS_TRACKING_URI",
        "TITANIC_MLOPS_MODEL_NAME",
        "TITANIC_MLOPS_PREDICTION_LOG_URL",
        "TITANIC_MLOPS_STATE_DIR",
    }
    assert required <= set(config["data"])
    assert set(config["data"]) <= documented_settings, "a key is not in the settings table"
    env = {e["name"]: e for e in container["env"]}
    token = env["TITANIC_MLOPS_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token["name"] == "titanic-mlops-secrets"
    assert token.get("optional", False) is False


def test_no_secret_value_is_committed(overlay: tuple[str, list[Manifest]]) -> None:
    manifests = overlay[1]
    assert all(m["kind"] != "Secret" for m in manifests)
    for entry in _container(manifests)["env"]:
        if any(word in entry["name"] for word in ("TOKEN", "PASSWORD", "SECRET")):
            assert "value" not in entry, f"{entry['name']} has a literal value"
            assert entry["valueFrom"]["secretKeyRef"]["name"] == "titanic-mlops-secrets"
    for value in _one(manifests, "ConfigMap")["data"].values():
        assert urlsplit(value).password is None, f"a password in {value!r}"


def test_service_sends_port_80_to_the_pods(overlay: tuple[str, list[Manifest]]) -> None:
    service = _one(overlay[1], "Service")
    pod_labels = _one(overlay[1], "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert _port_number(_container(overlay[1]), port["targetPort"]) == API_PORT
    assert _selects(service["spec"]["selector"], pod_labels)


def test_hpa_scales_the_deployment_on_cpu(overlay: tuple[str, list[Manifest]]) -> None:
    deployment = _one(overlay[1], "Deployment")
    hpa = _one(overlay[1], "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    # apply must never scale below what the HPA keeps
    assert deployment["spec"]["replicas"] == hpa["spec"]["minReplicas"]
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_pdb_and_deployment_select_the_pod_labels(overlay: tuple[str, list[Manifest]]) -> None:
    deployment = _one(overlay[1], "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = _one(overlay[1], "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert _selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    assert _selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    assert pod_labels["app.kubernetes.io/name"] == APP


def test_dev_runs_one_replica_of_the_local_image(kubectl: str, repo: Path) -> None:
    manifests = _render(kubectl, repo / "deploy" / "kubernetes" / "overlays" / "dev")
    assert _one(manifests, "Deployment")["spec"]["replicas"] == 1
    container = _container(manifests)
    assert container["image"] == "titanic-mlops-serving:latest"  # what `make image` tags
    assert container["imagePullPolicy"] == "IfNotPresent"  # a loaded local image, never pulled


def test_prod_runs_more_replicas_of_the_ghcr_image(kubectl: str, repo: Path) -> None:
    manifests = _render(kubectl, repo / "deploy" / "kubernetes" / "overlays" / "prod")
    hpa = _one(manifests, "HorizontalPodAutoscaler")
    assert _one(manifests, "Deployment")["spec"]["replicas"] >= 3
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert _one(manifests, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    image = _container(manifests)["image"]
    # the committed tag is the placeholder CD replaces; a real tag here means a CD edit leaked in
    assert image == "ghcr.io/titanic-mlops/titanic-mlops-serving:0.0.0-set-by-cd"
