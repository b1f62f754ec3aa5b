"""`promote` always runs (dvc.yaml `always_changed`), so it must judge each version once only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from titanic_mlops.cli.pipeline import _judged_already
from titanic_mlops.domain.records import PromotionEvent
from titanic_mlops.domain.stage_outputs import Candidate

ROOT = Path(__file__).resolve().parents[2]
METRICS = {"accuracy": 0.8, "f1": 0.7, "precision": 0.7, "recall": 0.7, "rows": 179, "roc_auc": 0.85}


def _write(out: Path, version: str) -> None:
    event = PromotionEvent(
        trigger="manual",
        model_name="titanic-survival",
        challenger_version=version,
        champion_before=None,
        champion_after=version,
        promoted=True,
        reason="first model",
        checks=[],
        metrics={},
    )
    out.write_text(event.model_dump_json(), encoding="utf-8")


def test_a_version_the_last_decision_names_is_not_judged_again(tmp_path: Path) -> None:
    out = tmp_path / "promotion.json"
    _write(out, "3")
    assert _judged_already(out, "titanic-survival", "3")


def test_a_new_version_another_model_or_no_decision_is_judged(tmp_path: Path) -> None:
    out = tmp_path / "promotion.json"
    assert not _judged_already(out, "titanic-survival", "1")
    _write(out, "3")
    assert not _judged_already(out, "titanic-survival", "4")
    assert not _judged_already(out, "another-model", "3")


def test_an_unreadable_decision_is_judged_again(tmp_path: Path) -> None:
    out = tmp_path / "promotion.json"
    out.write_text('{"event": "promotion", "challenger_ver', encoding="utf-8")
    assert not _judged_already(out, "titanic-survival", "3")


def test_promote_on_a_version_judged_already_imports_neither_pandas_nor_mlflow(tmp_path: Path) -> None:
    """Every `dvc repro` runs the stage: its common case must stay an interpreter start, a
    record read and nothing heavy (pandas alone costs half a second, MLflow two, the settings
    and pydantic-settings a tenth)."""
    out, candidate, holdout = (
        tmp_path / "promotion.json",
        tmp_path / "candidate.json",
        tmp_path / "holdout.parquet",
    )
    _write(out, "3")
    judged = {"name": "titanic-survival", "version": "3", "run_id": "r", "holdout": METRICS}
    record = Candidate.model_validate({**judged, "train_rows": 712, "holdout_rows": 179})
    candidate.write_text(record.model_dump_json(), encoding="utf-8")
    holdout.write_bytes(b"")
    code = (
        "import sys; from titanic_mlops.cli.main import main; "
        f"rc = main(['promote', '--candidate', {str(candidate)!r}, '--holdout', {str(holdout)!r}, "
        f"'--out', {str(out)!r}]); "
        "heavy = ('pandas', 'numpy', 'mlflow', 'sklearn', 'feast', 'pydantic_settings'); "
        "heavy = sorted(m for m in heavy if m in sys.modules); "
        "print(rc, heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "0 []", done.stderr
