"""The deployment's registry view: saved best effort, never at the cost of a decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from titanic_mlops.config.settings import Settings
from titanic_mlops.domain.versions import ModelRef
from titanic_mlops.services.deployment import Deployment


class BrokenRegistry:
    """A store that fails while the view is read (after the decision was written)."""

    def __init__(self, db: Path) -> None:
        self.tracking_uri = f"sqlite:///{db}"
        self.model_name = "titanic-survival"

    def alias(self, alias: str) -> ModelRef | None:
        raise OSError("disk I/O error")


def test_a_view_that_cannot_be_read_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deployment = Deployment(Settings(state_dir=tmp_path / "state"))
    db = deployment.settings.state_layout.mlflow_db
    db.parent.mkdir(parents=True)
    db.write_bytes(b"SQLite format 3\x00")
    deployment.save_registry_view(BrokenRegistry(db))  # type: ignore[arg-type]
    assert "registry view not saved (status will read MLflow): disk I/O error" in caplog.text
    assert not deployment.settings.state_layout.registry_view.exists()
