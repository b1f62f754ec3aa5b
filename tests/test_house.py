"""The house's shape, checked: paths agree with dvc.yaml, each stage's deps cover the code it runs,
and no module of the project imports itself in a loop."""

from __future__ import annotations

import hashlib
import itertools
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import yaml

from tests.support.workspace import ROOT
from titanic_mlops.config import layout
from titanic_mlops.services.workspace import create_dvc_workspace

PACKAGES = ("titanic_mlops", "pipelines", "serving", "monitoring")
# The module a stage's command runs (the CLI handler only parses paths and calls it).
ENTRIES = {
    "ingest": "titanic_mlops.services.ingest",
    "validate": "titanic_mlops.services.validate",
    "features": "titanic_mlops.services.features",
    "train": "pipelines.training",
    "promote": "titanic_mlops.services.promote",
}
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def module_file(name: str) -> str:
    parts = name.split(".")
    base = Path("src") if parts[0] == "titanic_mlops" else Path()
    single = base.joinpath(*parts).with_suffix(".py")
    return str(single if (ROOT / single).exists() else base.joinpath(*parts) / "__init__.py")


def layout_paths() -> set[str]:
    return {str(value) for name, value in vars(layout).items() if name.isupper() and isinstance(value, Path)}


def test_every_path_a_stage_command_names_is_a_layout_path() -> None:
    known = layout_paths()
    for name, stage in STAGES.items():
        argv = shlex.split(stage["cmd"])
        paths = [value for flag, value in itertools.pairwise(argv) if flag.startswith("--")]
        assert paths, name
        unknown = [p for p in paths if p not in known]
        assert not unknown, f"stage {name} names paths the layout does not own: {unknown}"


def test_every_stage_output_is_a_layout_path() -> None:
    known = layout_paths()
    for name, stage in STAGES.items():
        for out in [*stage.get("outs", []), *stage.get("metrics", [])]:
            path = next(iter(out)) if isinstance(out, dict) else out
            assert path in known, f"stage {name} writes {path}, which the layout does not name"


def test_the_cli_defaults_are_the_layout_paths() -> None:
    from titanic_mlops.cli.main import parser

    args = parser().parse_args(["train"])
    assert (args.input, args.holdout, args.candidate) == (layout.VALIDATED, layout.HOLDOUT, layout.CANDIDATE)


@pytest.mark.parametrize("stage", list(ENTRIES))
def test_a_stage_s_deps_cover_the_import_closure_of_its_code(graph: grimp.ImportGraph, stage: str) -> None:
    entry = ENTRIES[stage]
    closure = {entry} | set(graph.find_upstream_modules(entry))
    declared = set(STAGES[stage]["deps"])
    missing = sorted(module_file(m) for m in closure if module_file(m) not in declared)
    assert not missing, f"dvc.yaml stage {stage} runs code it does not list in its deps: {missing}"


def test_no_module_of_the_project_takes_part_in_an_import_cycle(graph: grimp.ImportGraph) -> None:
    looping = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                looping.append(f"{module} <-> {imported}")
    assert not looping, looping


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edited", "changed"),
    [
        ("src/titanic_mlops/domain/features.py", {"features", "train", "promote"}),
        ("src/titanic_mlops/domain/promotion.py", {"promote"}),
    ],
)
def test_editing_code_marks_exactly_the_stages_that_run_it(
    tmp_path: Path, edited: str, changed: set[str]
) -> None:
    """In a workspace where every stage is recorded as up to date, `dvc status` names the stages."""
    dvc = str(Path(sys.executable).parent / "dvc")
    work = create_dvc_workspace(tmp_path / "work", ROOT, tmp_path / "remote", dvc)
    kinds = ("outs", "metrics", "plots")
    outputs = [out for stage in STAGES.values() for kind in kinds for out in stage.get(kind, [])]
    for out in outputs:
        target = work / (next(iter(out)) if isinstance(out, dict) else out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir() if target.suffix == "" else target.write_text("placeholder\n")
    for name in STAGES:
        subprocess.run([dvc, "commit", "-f", "-q", name], cwd=work, check=True, capture_output=True)
    assert _changed(dvc, work) == set()
    with (work / edited).open("a") as handle:
        handle.write("\n# an edit\n")
    assert _changed(dvc, work) == changed


def _changed(dvc: str, work: Path) -> set[str]:
    done = subprocess.run([dvc, "status", "--json"], cwd=work, check=True, capture_output=True, text=True)
    # `promote` is always changed by design (dvc.yaml: train's side effect, a new version, must be
    # judged even when train's outputs reproduce byte for byte); what counts is a changed dep.
    status = json.loads(done.stdout or "{}")
    return {name.split(":")[-1] for name, why in status.items() if why != ["always changed"]}


def test_the_workspace_copy_holds_every_dep_the_stages_declare(tmp_path: Path) -> None:
    work = create_dvc_workspace(tmp_path / "work", ROOT, tmp_path / "remote", shutil.which("true") or "true")
    code = {d for stage in STAGES.values() for d in stage["deps"] if d.endswith(".py")}
    assert not [d for d in sorted(code) if not (work / d).exists()]


def test_dvc_lock_records_the_code_as_committed() -> None:
    """A stage-code edit without `dvc repro` leaves dvc.lock stale; a clean clone's first repro then
    rewrites it, and the e2e run (minutes later) is the first to say so. This says it in a second."""
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.split()
    )
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    stale = sorted(
        {
            dep["path"]
            for stage in lock.values()
            for dep in stage.get("deps", [])
            if dep["path"] in tracked
            and hashlib.md5((ROOT / dep["path"]).read_bytes(), usedforsecurity=False).hexdigest()
            != dep["md5"]
        }
    )
    assert not stale, f"dvc.lock is stale for {stale}: run `dvc repro` and commit dvc.lock"
