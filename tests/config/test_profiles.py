"""One switch moves every store; an explicit setting wins; the Feast files fill their variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from titanic_mlops.adapters import feast_store as feature_store
from titanic_mlops.config import profiles
from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.services.deployment import Deployment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("TITANIC_MLOPS_"):
            monkeypatch.delenv(key)


def test_the_embedded_profile_keeps_every_store_under_the_state_dir(tmp_path: Path) -> None:
    s = Settings(state_dir=tmp_path)
    assert s.resolved_tracking_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert s.resolved_artifact_root == str(tmp_path / "mlflow" / "artifacts")
    assert s.resolved_prediction_log_url == f"sqlite:///{tmp_path / 'predictions.db'}"
    assert s.resolved_feast_config == "feature_store.yaml"
    assert s.resolved_lock_url == f"file://{tmp_path / 'locks'}"


def test_the_production_profile_moves_every_store_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TITANIC_MLOPS_PROFILE", "production")
    s = Settings()
    assert s.resolved_tracking_uri.startswith("http://")
    assert s.resolved_artifact_root.startswith("mlflow-artifacts:")
    assert s.resolved_prediction_log_url.startswith("postgresql://")
    assert s.resolved_feast_config == "feature_store.production.yaml"
    assert s.resolved_lock_url == s.resolved_prediction_log_url


def test_an_explicit_setting_wins_over_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TITANIC_MLOPS_PROFILE", "production")
    monkeypatch.setenv("TITANIC_MLOPS_TRACKING_URI", "http://mlflow:5000")
    monkeypatch.setenv("TITANIC_MLOPS_FEAST_CONFIG", "feature_store.yaml")
    monkeypatch.setenv("TITANIC_MLOPS_LOCK_URL", "file:///var/locks")
    s = Settings()
    assert s.resolved_tracking_uri == "http://mlflow:5000"
    assert s.resolved_feast_config == "feature_store.yaml"
    assert s.resolved_lock_url == "file:///var/locks"


def test_an_unknown_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TITANIC_MLOPS_PROFILE", "staging")
    with pytest.raises(ValidationError, match="profile"):
        Settings()
    with pytest.raises(ValueError, match="unknown profile 'staging'"):
        profiles.defaults("staging")


def test_the_production_feast_file_reads_redis_and_the_sql_registry_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TITANIC_MLOPS_FEAST_REDIS", "redis.example:6380,db=3")
    variables = Deployment().feast_variables()
    config = feature_store.load_repo_config(
        ROOT / "feature_repo", tmp_path, "feature_store.production.yaml", variables
    )
    assert config.online_store.connection_string == "redis.example:6380,db=3"
    assert config.registry.registry_type == "sql"
    assert config.registry.path == profiles.FEAST_VARIABLES["TITANIC_MLOPS_FEAST_REGISTRY_URL"]


def test_an_unset_variable_in_a_feast_file_is_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        "project: p\n# ${IN_A_COMMENT}\nregistry: ${NOT_SET_ANYWHERE}/r.db\n"
    )
    with pytest.raises(TitanicMlopsError, match="NOT_SET_ANYWHERE"):
        feature_store.load_repo_config(repo, tmp_path)
