"""`make bench-pipeline`: cold and no-op `dvc repro` wall times on a fresh clone of HEAD.

Prints a table; targets (issue 2): cold under 60 s after setup, no-op under 5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-2000:])
        raise SystemExit(f"{' '.join(cmd)} failed")
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "TITANIC_MLOPS_STATE_DIR": str(clone / ".state"),
            "PREFECT_HOME": str(clone / ".state" / "prefect"),
        }
        cold = timed(["dvc", "repro"], clone, env)
        noop = timed(["dvc", "repro"], clone, env)
        stage = timed(["titanic-mlops", "status", "--json"], clone, env)
    rows = [
        ("dvc repro (cold)", cold, 60.0),
        ("dvc repro (no-op)", noop, 5.0),
        ("titanic-mlops status --json", stage, None),
    ]
    print(f"{'step':<30} {'seconds':>9} {'target':>8} {'ok':>4}")  # noqa: T201
    for name, seconds, target in rows:
        ok = "" if target is None else ("yes" if seconds <= target else "NO")
        shown = "" if target is None else f"{target:.0f}"
        print(f"{name:<30} {seconds:>9.1f} {shown:>8} {ok:>4}")  # noqa: T201
    print(f"(ratio cold/no-op: {cold / noop:.0f}x; 2 cores, shared machine: compare, don't trust)")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
