"""Each scheduled monitoring run is a new process: its entrypoint must import only what every run needs.

Prefect's runner executes every run of the `monitor` deployment (every 10 s in the demo, 300 s
by default) in a subprocess that imports `monitoring.scheduled` first, so whatever that module
imports is paid on every run, also on the many that find a window too small to judge. Those
were 3 s each, half of it scikit-learn through the outlier detector's and the ONNX graph's
modules, which only training needs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Imported where a judged window needs them (Evidently, MLflow's model load), never at the start.
HEAVY = ("sklearn", "scipy", "evidently", "mlflow", "fairlearn", "shap", "onnxruntime", "skl2onnx")


def test_the_scheduled_monitor_entrypoint_imports_no_model_or_report_library() -> None:
    code = f"import sys, monitoring.scheduled; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stdout
