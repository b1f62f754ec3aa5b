"""The peers' request bodies are strict JSON, gaps included (benchmarks/peers.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks import peers


def strict(body: bytes) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(body, parse_constant=refuse)


FRAME = pd.DataFrame({"Age": [22.0, np.nan], "Sex": ["male", "female"]})


@pytest.mark.parametrize("build", [peers.v2_body, peers.split_body, peers.instances_body])
def test_a_gap_is_null_never_nan(build: object) -> None:
    assert callable(build)
    assert "null" in build(FRAME).decode()
    strict(build(FRAME))


def test_the_v2_body_keeps_each_columns_type() -> None:
    body = strict(peers.v2_body(FRAME))
    assert isinstance(body, dict)
    age, sex = body["inputs"]
    assert (age["datatype"], age["data"]) == ("FP64", [22.0, None])
    assert (sex["datatype"], sex["data"]) == ("BYTES", ["male", "female"])
