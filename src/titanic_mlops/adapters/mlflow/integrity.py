"""What a registered version may load: a manifest of its files, verified whole before any is read.

The artifact store is less trusted than the tracking server (a shared bucket, a CI job can write
it): a rewritten `MLmodel` naming a pickle flavour and a `model.pkl` would otherwise run code in
the serving process. So registration records the sha256 of every file serving or batch scoring
reads (the model folder, `MLmodel` included, and the ONNX folder) as one version tag; loading
refuses any extra, missing or changed file, refuses an `MLmodel` naming a flavour this project
does not write, and deserializes `model.skops` with skops and the project's own trusted types,
never the format or the types `MLmodel` names, never a pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from titanic_mlops.atomic import file_sha256
from titanic_mlops.domain.errors import ModelIntegrityError
from titanic_mlops.domain.versions import ModelRef

MANIFEST_TAG = "artifact_manifest"
MODEL_PREFIX = "model/"
ONNX_PREFIX = "onnx/"
SKOPS_FILE = "model.skops"
# Types skops must be told to trust: the fitted tree ensemble's internals, nothing callable.
# Types skops must be told to trust; safe here because the whole manifest is verified first.
TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "titanic_mlops.domain.group_survival.GroupSurvival",
]
# The flavours `mlflow.sklearn.log_model(serialization_format="skops")` writes, and their files.
_FLAVOURS = {"python_function", "sklearn"}
# Written by MLflow's download itself (the registered name and version), never read by a loader.
_DOWNLOAD_META = "registered_model_meta"
_EXPECTED = {
    ("sklearn", "serialization_format"): "skops",
    ("sklearn", "pickled_model"): SKOPS_FILE,
    ("python_function", "loader_module"): "mlflow.sklearn",
    ("python_function", "model_path"): SKOPS_FILE,
}


def tree_manifest(root: Path, prefix: str) -> dict[str, str]:
    """`prefix + relative path` -> sha256 of every file under `root` (what a download brings)."""
    return {name: file_sha256(p) for name, p in _files(root, prefix).items()}


def _files(root: Path, prefix: str) -> dict[str, Path]:
    found = {prefix + p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}
    found.pop(prefix + _DOWNLOAD_META, None)
    return found


def encode(manifest: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(manifest.items())), separators=(",", ":"))


def manifest_of(ref: ModelRef, tags: Mapping[str, str]) -> dict[str, str]:
    """The registered manifest of `ref`, refused when absent or unreadable."""
    text = tags.get(MANIFEST_TAG)
    if text is None:
        raise ModelIntegrityError(
            f"{ref.uri} has no {MANIFEST_TAG} tag (registered elsewhere or before manifests); "
            "refusing to load files nobody vouched for"
        )
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise ModelIntegrityError(f"{ref.uri}: its {MANIFEST_TAG} tag is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        raise ModelIntegrityError(f"{ref.uri}: its {MANIFEST_TAG} tag is not a path -> sha256 map")
    return {str(k): v for k, v in manifest.items()}


def verify_tree(ref: ModelRef, root: Path, manifest: Mapping[str, str], prefix: str) -> None:
    """The files under `root` are exactly the manifest's `prefix` entries, byte for byte."""
    links = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_symlink())
    if links:
        raise ModelIntegrityError(f"{ref.uri}: {prefix}{links[0]} is a symbolic link; refusing to load")
    expected = {k: v for k, v in manifest.items() if k.startswith(prefix)}
    if not expected:
        raise ModelIntegrityError(f"{ref.uri}: the manifest lists no {prefix} files; refusing to load")
    found = _files(root, prefix)
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ModelIntegrityError(
            f"{ref.uri}: {extra[0]} is not in the registered manifest; refusing to load"
        )
    missing = sorted(set(expected) - set(found))
    if missing:
        raise ModelIntegrityError(f"{ref.uri}: {missing[0]} of the registered manifest is missing")
    for name in sorted(expected):
        actual = file_sha256(found[name])
        if actual != expected[name]:
            raise ModelIntegrityError(
                f"{ref.uri}: {name} sha256 {actual[:12]}... differs from the registered "
                f"{expected[name][:12]}...; refusing to load a tampered artifact"
            )


def check_flavours(ref: ModelRef, model_dir: Path) -> None:
    """`MLmodel` names only the skops scikit-learn flavour this project writes."""
    from mlflow.models import Model

    try:
        flavours: dict[str, Any] = Model.load(str(model_dir / "MLmodel")).flavors
    except Exception as exc:  # a YAML or schema error: the file is not one MLflow wrote
        raise ModelIntegrityError(f"{ref.uri}: model/MLmodel cannot be read: {exc}") from exc
    others = sorted(set(flavours) - _FLAVOURS)
    if others or "sklearn" not in flavours:
        raise ModelIntegrityError(
            f"{ref.uri}: model/MLmodel names flavours {sorted(flavours)}; only {sorted(_FLAVOURS)} load here"
        )
    for (flavour, key), wanted in _EXPECTED.items():
        value = flavours.get(flavour, {}).get(key)
        if value != wanted:
            raise ModelIntegrityError(
                f"{ref.uri}: model/MLmodel says {flavour}.{key} = {value!r}; only {wanted!r} loads here"
            )


def load_skops(model_dir: Path) -> Any:
    """The pipeline in `model.skops`, with the project's trusted types (never MLmodel's)."""
    import skops.io

    return skops.io.load(model_dir / SKOPS_FILE, trusted=TRUSTED_TYPES)


def log_text(folder: Path, artifact: str, text: str) -> str:
    """Log `text` as the run artifact `artifact`; its sha256 (the version tag that guards it)."""
    import mlflow

    path = folder / Path(artifact).name
    path.write_text(text, encoding="utf-8")
    mlflow.log_artifact(str(path), artifact_path=str(Path(artifact).parent))
    return file_sha256(path)


def verify_file(path: Path, expected: str, ref: ModelRef) -> None:
    """Refuse a single artifact (the RAI sidecar) whose sha256 is not the registered one."""
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{ref.uri}: {path.name} sha256 {actual[:12]}... differs from the registered "
            f"{expected[:12]}...; refusing to load a tampered artifact"
        )
