"""The shadow log keeps the challenger's scores apart from the served predictions."""

from __future__ import annotations

from pathlib import Path

from titanic_mlops.stores.shadow_log import ShadowLog, ShadowPrediction


def test_appends_and_reads_one_versions_shadow_scores(tmp_path: Path) -> None:
    log = ShadowLog(tmp_path / "shadow.db")
    try:
        log.append([ShadowPrediction(i, "challenger", "2", 0.9, 1, 0.1) for i in (1, 2, 3)])
        log.append([ShadowPrediction(2, "challenger", "3", 0.1, 0, 0.1)])
        frame = log.for_version("2", after_id=1)
        assert frame["prediction_id"].tolist() == [2, 3]
        assert frame["survived"].tolist() == [1, 1]
        assert log.for_version("3")["probability"].tolist() == [0.1]
        assert log.for_version("4").empty
    finally:
        log.close()
