"""`titanic-mlops worker` refuses its common mistakes with one line and exit 1, before serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from titanic_mlops.cli.main import main


def test_without_a_prefect_server_the_worker_says_what_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["worker"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "titanic-mlops worker: error: PREFECT_API_URL is not set; start a server (`make up`) and point at it"
    ]


def test_a_workspace_without_dvc_yaml_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert main(["worker", "--workspace", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert str(tmp_path) in line and "no dvc.yaml" in line and "Traceback" not in line
