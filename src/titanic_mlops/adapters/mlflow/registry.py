"""The MLflow adapter, the only module that imports MLflow: runs, versions, aliases, verified loading.

Aliases only (MLflow 3); stages are never used. Every file serving or batch scoring reads is
recorded at registration in a manifest (a version tag, see `integrity`), and loading refuses a
version whose downloaded files are not exactly that manifest, or whose MLmodel names a flavour the
project does not write.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from titanic_mlops.adapters.mlflow import integrity
from titanic_mlops.atomic import file_sha256
from titanic_mlops.domain.errors import ModelNotFound, TitanicMlopsError
from titanic_mlops.domain.versions import ModelRef

if TYPE_CHECKING:
    from mlflow import MlflowClient

ONNX_ARTIFACT = "onnx/model.onnx"
SIDECAR_ARTIFACT = "rai/sidecar.json"  # outlier detector + SHAP background (services.explain)
SKOPS_FILE = integrity.SKOPS_FILE
TRUSTED_TYPES = integrity.TRUSTED_TYPES
# What the store answers for a missing registered model / a missing alias: "no such alias".
_ABSENT = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


class TrackingUnavailable(TitanicMlopsError):
    """The tracking server did not answer (down, unreachable, overloaded); nothing was learnt."""


def unavailable(exc: BaseException) -> bool:
    """True when `exc`, or an exception behind it, is an HTTP exchange that got no usable answer.

    Connection refused, timeouts, retries exhausted on 5xx/429: a fault of the server, not of the
    version asked about (a 404 on an artifact is an answer, and stays a refusal).
    """
    import requests

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TrackingUnavailable):
            return True
        if isinstance(current, requests.HTTPError):
            status = current.response.status_code if current.response is not None else None
            return status is None or status >= 500 or status == 429
        if isinstance(current, requests.RequestException):
            return True
        current = current.__cause__ or current.__context__
    return False


class Registry:
    """One registered model in one tracking store.

    `probe_timeout` (serving sets it) makes `probe` ask an http(s) tracking server one question
    with no retry: MLflow's client retries a dead server with backoff for about four minutes per
    call (MLFLOW_HTTP_REQUEST_MAX_RETRIES=7), which a poll should not wait out. Training and the
    gate leave it unset and keep MLflow's retries.
    """

    def __init__(
        self, tracking_uri: str, artifact_root: str, model_name: str, probe_timeout: float | None = None
    ) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self.model_name = model_name
        self.probe_timeout = probe_timeout
        self._client: MlflowClient | None = None

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            from mlflow import MlflowClient

            if self.tracking_uri.startswith("sqlite:///"):
                Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def connect(self) -> None:  # open the store now: a first run migrates the embedded database
        self.client  # noqa: B018  (the property opens the store; a server is asked nothing)

    def experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        location = self.artifact_root
        if "://" not in location and not location.startswith("mlflow-artifacts:"):
            Path(location).mkdir(parents=True, exist_ok=True)
            location = Path(location).resolve().as_uri()
        return str(self.client.create_experiment(name, artifact_location=location))

    def log_candidate(
        self,
        pipeline: Any,
        onnx_bytes: bytes,
        example: pd.DataFrame,
        params: dict[str, Any],
        metrics: dict[str, float],
        artifacts: Path,
        tags: dict[str, str],
        sidecar: str | None = None,
    ) -> ModelRef:
        """Everything a reviewer needs in the active run (or a new one), then a new registered version.

        The version's hash tags are set before the run ends: a run that ended FINISHED holds a
        complete registration, and one left RUNNING by a kill is an interrupted one.
        """
        import mlflow
        from mlflow.models import infer_signature

        mlflow.set_tracking_uri(self.tracking_uri)
        active = mlflow.active_run()
        experiment = self.experiment_id(self.model_name)
        with nullcontext(active) if active else mlflow.start_run(experiment_id=experiment) as run:
            mlflow.set_tags(tags)
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.log_artifacts(str(artifacts), artifact_path="evaluation")
            with tempfile.TemporaryDirectory() as tmp:
                onnx_path = Path(tmp) / Path(ONNX_ARTIFACT).name
                onnx_path.write_bytes(onnx_bytes)
                mlflow.log_artifact(str(onnx_path), artifact_path=str(Path(ONNX_ARTIFACT).parent))
                onnx_sha = file_sha256(onnx_path)
                hashes = {"onnx_sha256": onnx_sha}
                if sidecar is not None:
                    hashes["sidecar_sha256"] = integrity.log_text(Path(tmp), SIDECAR_ARTIFACT, sidecar)
            signature = infer_signature(example, pipeline.predict_proba(example))
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                signature=signature,
                input_example=example.head(3),
                registered_model_name=self.model_name,
                skops_trusted_types=TRUSTED_TYPES,
                pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
                await_registration_for=60,
            )
            version = str(info.registered_model_version)
            ref = ModelRef(self.model_name, version, run.info.run_id)
            with self._model_dir(ref) as local:
                skops_sha = file_sha256(local / SKOPS_FILE)
                manifest = integrity.tree_manifest(local, integrity.MODEL_PREFIX)
            manifest[ONNX_ARTIFACT] = onnx_sha
            recorded = {
                **hashes,
                "model_sha256": skops_sha,
                integrity.MANIFEST_TAG: integrity.encode(manifest),
            }
            for key, value in {**tags, **recorded}.items():
                self.client.set_model_version_tag(self.model_name, version, key, value)
        return ref

    def probe(self) -> None:
        """Raise `TrackingUnavailable` unless the tracking server answers at once; no-op when unset.

        One GET of the registered model, no retry, `probe_timeout` seconds at most: any answer
        below 500 (404 included) proves the server and its database respond.
        """
        if self.probe_timeout is None or not self.tracking_uri.startswith(("http://", "https://")):
            return
        from mlflow.utils.credentials import get_default_host_creds
        from mlflow.utils.rest_utils import http_request

        creds = get_default_host_creds(self.tracking_uri)  # type: ignore[no-untyped-call]
        try:
            response = http_request(  # type: ignore[no-untyped-call]
                creds,
                "/api/2.0/mlflow/registered-models/get",
                "GET",
                max_retries=0,
                backoff_factor=0,
                backoff_jitter=0,
                retry_codes=(),
                timeout=self.probe_timeout,
                raise_on_status=False,
                params={"name": self.model_name},
            )
        except Exception as exc:  # mlflow wraps every transport failure in MlflowException
            raise TrackingUnavailable(f"tracking server {self.tracking_uri} does not answer: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TrackingUnavailable(
                f"tracking server {self.tracking_uri} answered HTTP {response.status_code}"
            )

    def set_alias(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.model_name, alias, version)

    def delete_alias(self, alias: str) -> None:
        """Remove `alias` (the experiment's reject); absent already is fine."""
        if self.alias(alias) is not None:
            self.client.delete_registered_model_alias(self.model_name, alias)

    def describe_version(self, version: str, description: str) -> None:
        self.client.update_model_version(self.model_name, version, description=description)

    def alias(self, alias: str) -> ModelRef | None:
        """The version the alias points at; None only when the store says there is none."""
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException as exc:
            if exc.error_code in _ABSENT:
                return None
            if unavailable(exc):
                raise TrackingUnavailable(f"tracking server {self.tracking_uri}: {exc}") from exc
            raise
        return ModelRef(self.model_name, str(found.version), str(found.run_id))

    def require(self, alias: str) -> ModelRef:
        ref = self.alias(alias)
        if ref is None:
            raise ModelNotFound(f"model {self.model_name!r} has no version with alias {alias!r}")
        return ref

    def version(self, version: str) -> ModelRef:
        found = self.client.get_model_version(self.model_name, version)
        return ModelRef(self.model_name, str(found.version), str(found.run_id))

    def tag(self, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, version, key, value)

    def describe(self, ref: ModelRef) -> dict[str, Any]:
        """Name, version, run, metrics and lineage, as `status --json` and `/model` show them."""
        version = self.client.get_model_version(ref.name, ref.version)
        run = self.client.get_run(ref.run_id)
        return {
            "name": ref.name,
            "version": ref.version,
            "run_id": ref.run_id,
            "aliases": list(version.aliases),
            "created": version.creation_timestamp,
            "metrics": dict(sorted(run.data.metrics.items())),
            "lineage": dict(sorted(version.tags.items())),
        }

    def load_onnx(self, ref: ModelRef) -> bytes:
        """The ONNX graph of a version, once its folder matches the registered manifest."""
        import mlflow

        manifest = self._manifest(ref)
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                run_id=ref.run_id,
                artifact_path=str(Path(ONNX_ARTIFACT).parent),
                dst_path=tmp,
                tracking_uri=self.tracking_uri,
            )
            integrity.verify_tree(ref, Path(local), manifest, integrity.ONNX_PREFIX)
            return (Path(local) / Path(ONNX_ARTIFACT).name).read_bytes()

    def load_sklearn(self, ref: ModelRef) -> Any:
        """The scikit-learn pipeline of a version: whole manifest verified, skops flavour only."""
        manifest = self._manifest(ref)
        with self._model_dir(ref) as local:
            integrity.verify_tree(ref, local, manifest, integrity.MODEL_PREFIX)
            integrity.check_flavours(ref, local)
            return integrity.load_skops(local)

    def load_sidecar(self, ref: ModelRef) -> str | None:
        """The version's sidecar text, hash-checked; None for a version registered without one."""
        import mlflow

        tags = self.client.get_model_version(ref.name, ref.version).tags
        if "sidecar_sha256" not in tags:
            return None
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                run_id=ref.run_id,
                artifact_path=SIDECAR_ARTIFACT,
                dst_path=tmp,
                tracking_uri=self.tracking_uri,
            )
            integrity.verify_file(Path(local), str(tags["sidecar_sha256"]), ref)
            return Path(local).read_text(encoding="utf-8")

    @contextmanager
    def _model_dir(self, ref: ModelRef) -> Iterator[Path]:
        """The version's model folder, downloaded to a temporary directory removed afterwards."""
        import mlflow

        with tempfile.TemporaryDirectory(prefix=f"titanic-model-{ref.version}-") as target:
            mlflow.set_tracking_uri(self.tracking_uri)
            yield Path(mlflow.artifacts.download_artifacts(artifact_uri=ref.uri, dst_path=target))

    def _manifest(self, ref: ModelRef) -> dict[str, str]:
        tags = self.client.get_model_version(ref.name, ref.version).tags
        return integrity.manifest_of(ref, tags)
