"""deploy/kubernetes/loop: the loop's worker renders, validates strictly offline, runs one at a time."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kv

KUBERNETES_VERSION = "1.32.0"


@pytest.fixture(scope="module")
def manifests(require_tool: Callable[[str, str], str], repo: Path) -> list[dict[str, Any]]:
    kubectl = require_tool("kubectl", "kubectl >= 1.27 (built-in kustomize v5)")
    done = subprocess.run(
        [kubectl, "kustomize", str(repo / "deploy" / "kubernetes" / "loop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_every_loop_manifest_validates_strictly(manifests: list[dict[str, Any]]) -> None:
    assert sorted(m["kind"] for m in manifests) == ["ConfigMap", "Deployment", "PersistentVolumeClaim"]
    for manifest in manifests:
        kv.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_one_hardened_worker_serves_the_loop_from_the_workspace(manifests: list[dict[str, Any]]) -> None:
    (worker,) = [m for m in manifests if m["kind"] == "Deployment"]
    spec = worker["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate", "never two workers"
    (container,) = spec["template"]["spec"]["containers"]
    assert container["command"] == ["titanic-mlops", "worker", "--workspace", "/workspace"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert volumes[mounts["/workspace"]]["persistentVolumeClaim"]["claimName"] == "titanic-mlops-workspace"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    sources = [s["configMapRef"]["name"] for s in container["envFrom"]]
    assert sources == ["titanic-mlops-config", "titanic-mlops-loop"]
    (config,) = [m for m in manifests if m["kind"] == "ConfigMap"]
    assert config["data"]["PREFECT_API_URL"].endswith("/api")
    assert config["data"]["TITANIC_MLOPS_MONITOR_INTERVAL_SECONDS"] == "300"
