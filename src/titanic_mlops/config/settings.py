"""Where things run: read from the environment, never from params.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from titanic_mlops.config import profiles
from titanic_mlops.config.layout import StateLayout

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "token", "admin"}
# A bearer token shorter than this is guessable online; the server refuses to start with one.
MIN_ADMIN_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    """One typed view of the deployment; the profile decides every store at once."""

    model_config = SettingsConfigDict(env_prefix="TITANIC_MLOPS_", extra="ignore", frozen=True)

    state_dir: Path = Field(default=Path(".state"))
    tracking_uri: str | None = None
    artifact_root: str | None = None
    model_name: str = "titanic-survival"
    feature_repo: Path = Field(default=Path("feature_repo"))
    prediction_log_url: str | None = None
    admin_token: SecretStr | None = None
    reload_interval_seconds: float = Field(default=5.0, gt=0)
    # serving's alias poll asks an http tracking server once, no retry, this long at most
    tracking_probe_timeout_seconds: float = Field(default=5.0, gt=0)
    max_batch_size: int = Field(default=1000, ge=1)
    # Limits at the edge (serving/limits.py): one client cannot hold the loop, the memory or the fds.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # a full 1000-passenger batch is ~250 KB
    body_limits: dict[str, int] = Field(
        default_factory=dict
    )  # per-path overrides, e.g. {"/feedback": 262144}
    max_header_bytes: int = Field(default=16_384, ge=1024)
    body_read_timeout_seconds: float = Field(default=10.0, gt=0)
    header_read_timeout_seconds: float = Field(default=10.0, gt=0)
    keepalive_timeout_seconds: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
    # How long /predict waits for its log row to be durable before answering 503.
    log_write_timeout_seconds: float = Field(default=2.0, gt=0)
    serving_engine: Literal["onnx", "sklearn"] = "onnx"
    profile: profiles.Name = "embedded"
    feast_config: str | None = None
    lock_url: str | None = None
    monitoring_url: str | None = None
    dask: bool = False
    dask_address: str | None = None
    # What started a pipeline run, recorded by the gate: `pipeline`, `drift` (a retraining), ...
    trigger: str = "pipeline"
    # How often the `monitor` deployment (`titanic-mlops worker`) runs one cycle; 300 s locally.
    monitor_interval_seconds: float = Field(default=300.0, gt=0)

    @field_validator("admin_token")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        if value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("TITANIC_MLOPS_ADMIN_TOKEN is a placeholder; set a real secret")
        if len(value.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"TITANIC_MLOPS_ADMIN_TOKEN has {len(value.get_secret_value())} characters; "
                f"at least {MIN_ADMIN_TOKEN_LENGTH} are required (e.g. `openssl rand -hex 32`)"
            )
        return value

    @property
    def state(self) -> Path:
        return self.state_dir.resolve()

    @property
    def state_layout(self) -> StateLayout:
        return StateLayout(self.state)

    @property
    def resolved_tracking_uri(self) -> str:
        default = profiles.defaults(self.profile).tracking_uri
        return self.tracking_uri or default or f"sqlite:///{self.state_layout.mlflow_db}"

    @property
    def resolved_artifact_root(self) -> str:
        default = profiles.defaults(self.profile).artifact_root
        return self.artifact_root or default or str(self.state_layout.mlflow_artifacts)

    @property
    def resolved_prediction_log_url(self) -> str:
        default = profiles.defaults(self.profile).prediction_log_url
        return self.prediction_log_url or default or f"sqlite:///{self.state_layout.prediction_log}"

    @property
    def resolved_feast_config(self) -> str:
        """The file in the feature repo: feature_store.yaml, or the profile's (production) one."""
        return self.feast_config or profiles.defaults(self.profile).feast_config

    @property
    def resolved_lock_url(self) -> str:
        """Where promotions serialize: PostgreSQL advisory locks, or lock files under the state dir."""
        return profiles.lock_url(self.lock_url, self.resolved_prediction_log_url, self.state_layout)

    @property
    def resolved_monitoring_url(self) -> str:
        """Where monitoring keeps its cursor, policy memory and cycles: the log's database, or files."""
        return profiles.monitoring_url(
            self.monitoring_url, self.resolved_prediction_log_url, self.state_layout
        )

    @property
    def history_path(self) -> Path:
        return self.state_layout.history
