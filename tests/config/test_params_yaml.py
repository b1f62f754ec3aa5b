"""params.yaml parses into frozen models and rejects typos."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from titanic_mlops.config.params_yaml import load_params
from titanic_mlops.domain.errors import TitanicMlopsError

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_params_parse() -> None:
    params = load_params(ROOT / "params.yaml")
    assert params.split.seed == 42
    assert len(params.train.candidates) >= 3


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["train"]["sed"] = 1
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(TitanicMlopsError, match="sed"):
        load_params(path)


def test_an_out_of_range_value_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["split"]["holdout_fraction"] = 0.9
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(TitanicMlopsError, match="holdout_fraction"):
        load_params(path)
