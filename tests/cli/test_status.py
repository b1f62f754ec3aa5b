"""`titanic-mlops status` reads and never writes: on an empty state it says what to run, and it
shows the self-driving loop (or why there is none) from the worker's pointer file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.net import free_port
from titanic_mlops.cli.main import main
from titanic_mlops.config.layout import StateLayout


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TITANIC_MLOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path / "state"


def status(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["status", *argv]) == 0
    return capsys.readouterr().out


def test_on_an_empty_state_status_says_what_to_run_and_creates_nothing(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = status(capsys)
    assert f"no MLflow database at {state / 'mlflow' / 'mlflow.db'} yet: run `dvc repro`" in text
    assert "champion   none" in text
    assert "loop       not running (no worker: `make up` starts one" in text
    payload = json.loads(status(capsys, "--json"))
    assert payload["champion"] is None and payload["loop"]["running"] is False
    assert not state.exists(), "status created a store"


def test_a_worker_pointer_to_a_server_that_is_gone_is_reported_not_raised(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    pointer = StateLayout(state).loop_server
    pointer.parent.mkdir(parents=True)
    pointer.write_text(url + "\n")
    loop = json.loads(status(capsys, "--json"))["loop"]
    assert loop["running"] is False and loop["prefect_api_url"] == url
    assert "ConnectError" in loop["unavailable"]
    assert f"loop       unavailable at {url}: ConnectError" in status(capsys)


def test_mlflow_download_bars_stay_out_of_a_command_s_output(
    state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", raising=False)
    status(capsys)
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"


def test_status_imports_no_statistics_or_training_library_before_it_reads_the_registry() -> None:
    # scipy.stats and statsmodels (~1 s) are for the experiment's looks, scikit-learn for
    # training; `status` only reads. A fresh interpreter, so this session's imports do not count.
    code = (
        "import sys; import titanic_mlops.cli.main, titanic_mlops.services.status; "
        "print(','.join(m for m in ('scipy.stats', 'statsmodels', 'sklearn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_status_answers_from_the_saved_registry_view_without_importing_mlflow(state: Path) -> None:
    """After the gate saved the view, `status` shows the aliases without MLflow (about two
    seconds); the view says what the store held (tests/adapters/test_mlflow_view.py)."""
    from titanic_mlops.adapters.mlflow import view

    layout = StateLayout(state)
    layout.mlflow_db.parent.mkdir(parents=True)
    layout.mlflow_db.write_bytes(b"SQLite format 3\x00")
    metrics = {"holdout_accuracy": 0.83, "holdout_roc_auc": 0.87}
    champion = {"name": "titanic-survival", "version": "7", "run_id": "abcdef1234", "metrics": metrics}
    saved = view.SavedView(
        tracking_uri=f"sqlite:///{layout.mlflow_db}",
        model_name="titanic-survival",
        fingerprint=view.fingerprint(layout.mlflow_db),
        versions={"champion": champion, "challenger": None},
    )
    layout.registry_view.parent.mkdir(parents=True)
    layout.registry_view.write_text(saved.model_dump_json(), encoding="utf-8")
    code = (
        "import sys; from titanic_mlops.cli.main import main; rc = main(['status']); "
        "print('mlflow loaded' if 'mlflow' in sys.modules else 'no mlflow', rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "champion   v7  accuracy 0.8300  roc_auc 0.8700  run abcdef12" in done.stdout, done.stderr
    assert done.stdout.strip().endswith("no mlflow 0")
