"""`make bench-pipeline`: a cold `dvc repro` stage by stage, a no-op `dvc repro` and `status`,
on a fresh clone of HEAD.

Each stage's time runs from DVC's "Running stage" line to the next one (the last stage's to the
end), so it holds the stage command's interpreter start and imports as well as its work; the
time before the first stage is DVC's own start and its check of the stages. Prints a table
against the issue 16 targets (cold <= 30 s after setup, no-op <= 1 s, status <= 1.5 s) and
writes it as JSON (--json). A shared machine's numbers: compare runs, don't trust one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGE = re.compile(r"Running stage '([^']+)'")
TARGETS = {"dvc repro (cold)": 30.0, "dvc repro (no-op)": 1.0, "titanic-mlops status": 1.5}


def staged_run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, list[tuple[str, float]]]:
    """The whole wall time and (stage, seconds) per stage, from the lines as they arrive."""
    start = time.perf_counter()
    marks: list[tuple[str, float]] = [("(dvc start, stage checks)", 0.0)]
    tail: list[str] = []
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail = [*tail[-40:], line]
            found = STAGE.search(line)
            if found:
                marks.append((found.group(1), time.perf_counter() - start))
    total = time.perf_counter() - start
    if process.returncode != 0:
        sys.stderr.write("".join(tail))
        raise SystemExit(f"{' '.join(cmd)} failed")
    ends = [at for _, at in marks[1:]] + [total]
    return total, [(name, end - at) for (name, at), end in zip(marks, ends, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / ".state" / "bench" / "pipeline.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "TITANIC_MLOPS_STATE_DIR": str(clone / ".state"),
            "PREFECT_HOME": str(clone / ".state" / "prefect"),
        }
        cold, stages = staged_run(["dvc", "repro"], clone, env)
        noop, _ = staged_run(["dvc", "repro"], clone, env)
        status, _ = staged_run(["titanic-mlops", "status"], clone, env)
    rows = [("dvc repro (cold)", cold), ("dvc repro (no-op)", noop), ("titanic-mlops status", status)]
    print(f"{'cold dvc repro, stage':<32} {'seconds':>8} {'share':>6}")  # noqa: T201
    for name, seconds in stages:
        print(f"  {name:<30} {seconds:>8.1f} {seconds / cold:>6.0%}")  # noqa: T201
    print(f"\n{'step':<32} {'seconds':>8} {'target':>7} {'ok':>4}")  # noqa: T201
    for name, seconds in rows:
        target = TARGETS[name]
        print(f"{name:<32} {seconds:>8.1f} {target:>7.1f} {'yes' if seconds <= target else 'NO':>4}")  # noqa: T201
    print("(2 cores shared with other work: compare runs, don't trust one)")  # noqa: T201
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"stages": dict(stages), **dict(rows), "load_average": os.getloadavg()}
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
