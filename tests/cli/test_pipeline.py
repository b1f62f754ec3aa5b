"""The pipeline's products: status, batch scoring, lineage, reproducibility, the validation gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.model.conftest import deployment_for, registry_for
from tests.support.workspace import Workspace, run_stage
from titanic_mlops.cli.main import main
from titanic_mlops.domain import features
from titanic_mlops.domain.errors import ModelIntegrityError
from titanic_mlops.domain.versions import CHAMPION
from titanic_mlops.services import ingest, scoring


def csv_inputs(ws: Workspace) -> features.Columns:
    """The model inputs of test.csv, with the online store's ticket group sizes."""
    deployment = deployment_for(ws)
    sizes = deployment.ticket_sizes(deployment.feature_store())
    raw = ingest.read_raw_csv(ws.layout.raw_test, labelled=False)
    columns = features.frame_columns(raw)
    return features.model_inputs(columns, sizes([str(t) for t in columns["Ticket"]]))


def test_status_json_names_the_champion_with_metrics_lineage_and_history(
    workspace_env: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["tracking_uri"].startswith("sqlite:///")
    champion = status["champion"]
    assert set(champion) >= {"name", "version", "run_id", "metrics", "lineage"}
    assert champion["metrics"]["holdout_accuracy"] > 0.75
    lineage = champion["lineage"]
    assert len(lineage["data_md5"]) == 32
    assert lineage["feature_service"] == "titanic_model_v1"
    assert lineage["validation_success"] == "true"
    assert "git_commit" in lineage
    assert status["history"][-1]["promoted"] is True
    assert status["history"][-1]["trigger"] == "pipeline"
    assert set(status["monitoring"]) >= {"latest", "cursor", "alarming_windows", "retraining_cursor"}


def test_status_shows_what_the_registry_holds_whether_from_the_saved_view_or_live(
    workspace_env: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate saves the view `status` answers from; a view the store moved past is not used."""
    from titanic_mlops.adapters.mlflow import view

    deployment = deployment_for(workspace_env)
    settings = deployment.settings
    live = view.live(registry_for(workspace_env))
    db = deployment.embedded_tracking_store()
    saved = view.load(
        settings.state_layout.registry_view, db, settings.resolved_tracking_uri, settings.model_name
    )
    assert saved is None or saved == live
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {alias: shown[alias] for alias in view.ALIASES} == live


def test_batch_scoring_writes_a_kaggle_submission_identical_for_both_engines(
    workspace_env: Workspace, tmp_path: Path
) -> None:
    test_csv = str(workspace_env.path("data/external/titanic/test.csv"))
    outputs = {}
    for engine in ("onnx", "sklearn"):
        out = tmp_path / f"{engine}.csv"
        assert main(["predict", "--input", test_csv, "--output", str(out), "--engine", engine]) == 0
        outputs[engine] = out.read_text()
    submission = pd.read_csv(tmp_path / "onnx.csv")
    assert list(submission.columns) == ["PassengerId", "Survived"]
    assert len(submission) == 418
    assert set(submission["Survived"]) <= {0, 1}
    assert outputs["onnx"] == outputs["sklearn"]


def test_onnx_probabilities_equal_the_registered_pipeline_on_every_test_row(
    trained_workspace: Workspace,
) -> None:
    registry = registry_for(trained_workspace)
    ref = registry.require(CHAMPION)
    inputs = csv_inputs(trained_workspace)
    onnx = scoring.load_model(registry, ref, "onnx").probabilities(inputs)
    sklearn = scoring.load_model(registry, ref, "sklearn").probabilities(inputs)
    assert np.max(np.abs(onnx - sklearn)) < 1e-6
    assert ((onnx >= 0.5) == (sklearn >= 0.5)).all()


def test_retraining_on_the_same_data_and_params_gives_identical_metrics(
    workspace_env: Workspace, tmp_path: Path
) -> None:
    p = workspace_env.path
    outputs = {
        "--holdout": tmp_path / "holdout.parquet",
        "--metrics": tmp_path / "metrics.json",
        "--plots": tmp_path / "plots",
        "--candidate": tmp_path / "candidate.json",
    }
    run_stage(workspace_env, "train", *[str(part) for pair in outputs.items() for part in pair])
    assert json.loads((tmp_path / "metrics.json").read_text()) == json.loads(
        p("reports/metrics.json").read_text()
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "holdout.parquet"), pd.read_parquet(p("data/holdout/holdout.parquet"))
    )


def test_corrupted_raw_data_stops_at_validation_and_the_champion_stays(
    workspace_env: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_for(workspace_env)
    before = registry.require(CHAMPION).version
    raw = pd.read_csv(workspace_env.path("data/external/titanic/train.csv"))
    raw.loc[0, "Age"] = -5
    raw.loc[1, "Embarked"] = "X"
    corrupt = tmp_path / "train.csv"
    raw.drop(columns=["Parch"]).to_csv(corrupt, index=False)
    interim, validated = tmp_path / "interim.parquet", tmp_path / "validated.parquet"
    assert (
        main(["ingest", "--raw", str(corrupt), "--feedback", str(tmp_path / "none"), "--out", str(interim)])
        == 0
    )
    capsys.readouterr()
    code = main(
        [
            "validate",
            "--input",
            str(interim),
            "--out",
            str(validated),
            "--report",
            str(tmp_path / "result.json"),
            "--docs",
            str(tmp_path / "docs"),
            "--params",
            str(workspace_env.path("params.yaml")),
        ]
    )
    message = capsys.readouterr().err
    assert code == 1
    for column in ("Age", "Embarked", "Parch"):
        assert f"column {column}" in message
    assert not validated.exists()
    assert json.loads((tmp_path / "result.json").read_text())["success"] is False
    assert (tmp_path / "docs" / "index.html").is_file()
    assert registry.require(CHAMPION).version == before


def test_a_tampered_onnx_artifact_is_refused(trained_workspace: Workspace, tmp_path: Path) -> None:
    registry = registry_for(trained_workspace)
    ref = registry.require(CHAMPION)
    [artifact] = [a for a in trained_workspace.state.rglob("onnx/model.onnx") if ref.run_id in str(a)]
    original = artifact.read_bytes()
    backup = tmp_path / "model.onnx.bak"  # outside the folder: an extra file is refused too
    shutil.copy(artifact, backup)
    try:
        artifact.write_bytes(original[:-8] + b"tampered")
        with pytest.raises(ModelIntegrityError, match="tampered artifact"):
            registry.load_onnx(ref)
    finally:
        shutil.move(backup, artifact)
    assert registry.load_onnx(ref) == original


def test_export_writes_the_champion_as_a_runnable_onnx_graph(
    workspace_env: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "edge" / "model.onnx"
    assert main(["export", "--format", "onnx", "--output", str(out)]) == 0
    from titanic_mlops.adapters.onnx_graph import OnnxModel

    probability = OnnxModel(out.read_bytes()).probabilities(csv_inputs(workspace_env))
    assert probability.shape == (418,)
    assert ((probability >= 0) & (probability <= 1)).all()
