"""`promote` always runs (dvc.yaml `always_changed`), so it must judge each version once only."""

from __future__ import annotations

from pathlib import Path

from titanic_mlops.cli.pipeline import _judged_already
from titanic_mlops.domain.records import PromotionEvent


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
