"""Rewritten artifacts are refused, naming the file, on reload and on restart; no artifact code runs.

Each attack works on a private version: a copy of the champion's model folder and ONNX graph,
registered (with the champion's tags, manifest included) in a private copy of the registry, so
the shared trained workspace is never touched.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts

from tests.serving.conftest import ADMIN_TOKEN, ServingState, make_serving_state, wait_ready
from titanic_mlops.adapters.mlflow import integrity
from titanic_mlops.adapters.mlflow.registry import Registry
from titanic_mlops.domain.versions import CHAMPION, ModelRef
from titanic_mlops.services.served_model import CandidateRefused, check_candidate


class _Payload:
    """Unpickling this creates `marker`: proof that code from the artifact ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


@dataclass
class Attack:
    state: ServingState
    registry: Registry
    ref: ModelRef
    model_dir: Path
    onnx_dir: Path
    marker: Path

    def rewrite_mlmodel_to_pickle(self) -> None:
        (self.model_dir / "model.pkl").write_bytes(pickle.dumps(_Payload(self.marker)))
        text = (self.model_dir / "MLmodel").read_text()
        text = text.replace("serialization_format: skops", "serialization_format: pickle")
        (self.model_dir / "MLmodel").write_text(text.replace("model.skops", "model.pkl"))

    def vouch(self) -> None:
        """Record a manifest that matches the rewritten files (a registry writer's attack)."""
        manifest = {
            **integrity.tree_manifest(self.model_dir, integrity.MODEL_PREFIX),
            **integrity.tree_manifest(self.onnx_dir, integrity.ONNX_PREFIX),
        }
        self.registry.tag(self.ref.version, {integrity.MANIFEST_TAG: integrity.encode(manifest)})


@pytest.fixture(scope="module")
def attack_base(
    trained_workspace: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ServingState, Path]:
    """A private registry, and the champion's model folder and ONNX folder downloaded once."""
    state = make_serving_state(trained_workspace, tmp_path_factory.mktemp("attack"))
    champion = state.registry().require(CHAMPION)
    uri = state.settings().resolved_tracking_uri
    pristine = state.root / "pristine"
    download_artifacts(artifact_uri=champion.uri, dst_path=str(pristine / "model"), tracking_uri=uri)
    download_artifacts(run_id=champion.run_id, artifact_path="onnx", dst_path=str(pristine), tracking_uri=uri)
    # the outlier detector's sidecar (hash-checked by its own tag, which the copy carries too)
    download_artifacts(run_id=champion.run_id, artifact_path="rai", dst_path=str(pristine), tracking_uri=uri)
    return state, pristine


@pytest.fixture
def attack(attack_base: tuple[ServingState, Path], tmp_path: Path) -> Attack:
    """A new version whose model folder and ONNX folder are private copies of the champion's."""
    state, pristine = attack_base
    registry = state.registry()
    client = MlflowClient(tracking_uri=state.settings().resolved_tracking_uri)
    champion = registry.require(CHAMPION)
    model_dir, onnx_dir = tmp_path / "model", tmp_path / "onnx"
    shutil.copytree(pristine / "model", model_dir)
    shutil.copytree(pristine / "onnx", onnx_dir)
    run = client.create_run(client.get_run(champion.run_id).info.experiment_id)
    client.log_artifacts(run.info.run_id, str(onnx_dir), artifact_path="onnx")
    client.log_artifacts(run.info.run_id, str(pristine / "rai"), artifact_path="rai")
    client.set_terminated(run.info.run_id)
    onnx_dir = Path(client.get_run(run.info.run_id).info.artifact_uri.removeprefix("file://")) / "onnx"
    version = client.create_model_version(registry.model_name, model_dir.as_uri(), run.info.run_id)
    ref = ModelRef(registry.model_name, str(version.version), run.info.run_id)
    registry.tag(ref.version, dict(client.get_model_version(registry.model_name, champion.version).tags))
    return Attack(state, registry, ref, model_dir, onnx_dir, tmp_path / "pwned")


def _pickle_flavour(a: Attack) -> None:
    a.rewrite_mlmodel_to_pickle()


def _mlmodel_trusts_more(a: Attack) -> None:
    mlmodel = a.model_dir / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("- numpy.dtype", "- numpy.dtype\n    - builtins.eval"))


def _extra_file(a: Attack) -> None:
    (a.model_dir / "sitecustomize.py").write_text("import os\n")


def _onnx_replaced(a: Attack) -> None:
    graph = a.onnx_dir / "model.onnx"
    graph.write_bytes(graph.read_bytes()[:-8] + b"tampered")


def _skops_removed(a: Attack) -> None:
    (a.model_dir / integrity.SKOPS_FILE).unlink()


def _vouched_pickle_flavour(a: Attack) -> None:
    a.rewrite_mlmodel_to_pickle()
    a.vouch()


ATTACKS: dict[str, tuple[Callable[[Attack], None], str]] = {
    "pickle flavour": (_pickle_flavour, "model/model.pkl is not in the registered manifest"),
    "MLmodel trusts more types": (_mlmodel_trusts_more, "model/MLmodel sha256"),
    "an extra file": (_extra_file, "model/sitecustomize.py is not in the registered manifest"),
    "ONNX graph replaced": (_onnx_replaced, "onnx/model.onnx sha256"),
    "skops file removed": (_skops_removed, "model/model.skops of the registered manifest is missing"),
    "a vouched-for pickle flavour": (_vouched_pickle_flavour, "sklearn.serialization_format = 'pickle'"),
}


def test_the_untampered_copy_loads(attack: Attack) -> None:
    """The control: the attack fixture itself builds a version that passes every check."""
    assert check_candidate(attack.registry, attack.ref, "onnx").version == attack.ref.version


@pytest.mark.parametrize("name", list(ATTACKS))
@pytest.mark.parametrize("engine", ["onnx", "sklearn"])
def test_a_rewritten_artifact_is_refused_naming_the_file(attack: Attack, name: str, engine: str) -> None:
    tamper, reason = ATTACKS[name]
    tamper(attack)
    if name == "ONNX graph replaced" and engine == "sklearn":  # scikit-learn never reads the graph
        assert check_candidate(attack.registry, attack.ref, "sklearn").version == attack.ref.version
        return
    with pytest.raises(CandidateRefused, match=re.escape(reason)):
        check_candidate(attack.registry, attack.ref, engine)  # type: ignore[arg-type]
    assert not attack.marker.exists(), "code from the artifact ran"


def test_on_reload_the_old_champion_keeps_serving(attack: Attack, tmp_path: Path) -> None:
    app = _app(attack.state, tmp_path)
    with TestClient(app) as client:
        before = wait_ready(client.get)["model_version"]
        attack.rewrite_mlmodel_to_pickle()
        attack.registry.set_alias(CHAMPION, attack.ref.version)
        answer = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["result"] == "refused" and body["model_version"] == before
        assert "model/model.pkl is not in the registered manifest" in body["reason"]
        assert client.get("/ready").json()["model_version"] == before
    assert not attack.marker.exists(), "code from the artifact ran"


def test_on_restart_a_rewritten_champion_never_serves(attack: Attack, tmp_path: Path) -> None:
    attack.rewrite_mlmodel_to_pickle()
    attack.registry.set_alias(CHAMPION, attack.ref.version)
    app = _app(attack.state, tmp_path)
    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while app.state.runtime.follower.refused is None:
            assert time.monotonic() < deadline, "the first poll never refused the tampered champion"
            time.sleep(0.05)
        assert client.get("/ready").status_code == 503
        assert "model/model.pkl" in app.state.runtime.follower.refused.reason
    assert not attack.marker.exists(), "code from the artifact ran"


def _app(state: ServingState, tmp_path: Path) -> Any:
    from serving.app import create_app

    return create_app(state.settings(prediction_log_url=f"sqlite:///{tmp_path / 'log.db'}"))


def test_a_version_without_a_manifest_is_refused(attack: Attack) -> None:
    client = MlflowClient(tracking_uri=attack.state.settings().resolved_tracking_uri)
    client.delete_model_version_tag(attack.registry.model_name, attack.ref.version, integrity.MANIFEST_TAG)
    with pytest.raises(CandidateRefused, match="no artifact_manifest tag"):
        check_candidate(attack.registry, attack.ref, "onnx")


def test_the_manifest_lists_mlmodel_and_the_onnx_graph(attack: Attack) -> None:
    tags = (
        MlflowClient(attack.state.settings().resolved_tracking_uri)
        .get_model_version(attack.registry.model_name, attack.ref.version)
        .tags
    )
    manifest = json.loads(tags[integrity.MANIFEST_TAG])
    assert {"model/MLmodel", "model/model.skops", "onnx/model.onnx"} <= set(manifest)
