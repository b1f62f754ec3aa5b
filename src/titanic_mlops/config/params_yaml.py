"""params.yaml, read once into `Params`; any missing, unknown or ill-typed key names itself."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from titanic_mlops.domain.errors import TitanicMlopsError
from titanic_mlops.domain.params import Params


def load_params(path: Path) -> Params:
    if not path.is_file():
        raise TitanicMlopsError(f"{path}: no such parameters file")
    with path.open() as handle:
        raw = yaml.safe_load(handle)
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise TitanicMlopsError(f"{path}: invalid parameters:\n{exc}") from exc
