"""Every command on its common mistakes: one line naming the problem, a non-zero exit, no traceback.

In-process through `main` (as the console script runs it), with an empty state directory, so a
mistake is caught at the boundary and no model, store or Prefect server is ever needed.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from titanic_mlops.cli.main import main

TEST_CSV = Path(__file__).resolve().parents[2] / "data" / "external" / "titanic" / "test.csv"
TRAIN_CSV = TEST_CSV.with_name("train.csv")
PARAMS = TEST_CSV.parents[3] / "params.yaml"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The usual bad inputs, in an empty workspace with an empty state directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TITANIC_MLOPS_STATE_DIR", str(tmp_path / "state"))
    train = TRAIN_CSV.read_bytes()
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b"\n\n  \n")
    (tmp_path / "latin1.csv").write_bytes(train.replace(b"Braund", "Br\u00e4und".encode("latin-1")))
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "truncated.csv").write_bytes(train[: len(train) // 2 + 7].rstrip(b"\n"))
    (tmp_path / "header.csv").write_bytes(train.split(b"\n")[0] + b"\n")
    (tmp_path / "rows.json").write_text('[{"Pclass": 3, "Sex": "male"}]')
    (tmp_path / "unclosed.csv").write_bytes(train.split(b"\n")[0] + b'\n1,0,3,"Braund, Mr. Owen\n')
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    rows = list(csv.reader(TEST_CSV.open()))
    header = rows[0]
    for name, column, value in [
        ("robot.csv", "Sex", "robot"),
        ("negative_age.csv", "Age", "-5"),
        ("infinite_fare.csv", "Fare", "inf"),
        ("first_class.csv", "Pclass", "first"),
        ("no_name.csv", "Name", ""),
    ]:
        bad = [list(row) for row in rows[:4]]
        bad[2][header.index(column)] = value
        _write(tmp_path / name, bad)
    keep = [i for i, c in enumerate(header) if c not in ("Name", "Ticket")]
    _write(tmp_path / "no_name_ticket.csv", [[row[i] for i in keep] for row in rows[:4]])
    return tmp_path


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line; fails on exit 0, on a raised exception, or on more than one line."""
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code != 0, f"{argv}: exit 0"
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert errors[0].startswith(f"titanic-mlops {argv[0]}: error: ")
    return errors[0]


BAD_RAW = [
    ("empty.csv", "the file is empty"),
    ("blank.csv", "the file is empty"),
    ("latin1.csv", "not UTF-8"),
    ("binary.bin", "binary data"),
    ("truncated.csv", "looks truncated"),
    ("header.csv", "no rows"),
    ("rows.json", "looks like JSON"),
    ("unclosed.csv", "not a well-formed CSV: Error tokenizing data. C error: EOF inside string"),
    ("missing.csv", "no such file"),
]


@pytest.mark.parametrize(("name", "says"), BAD_RAW)
def test_ingest_refuses_a_bad_file_in_one_line_and_writes_nothing(
    files: Path, capsys: pytest.CaptureFixture[str], name: str, says: str
) -> None:
    line = run(["ingest", "--raw", name, "--out", "out.parquet"], capsys)
    assert name in line and says in line
    assert not (files / "out.parquet").exists()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        *BAD_RAW,
        ("other.csv", "missing column(s) PassengerId"),
        ("no_name_ticket.csv", "missing column(s) Name, Ticket"),
        ("robot.csv", "row 2 Sex 'robot' is not one of male, female"),
        ("negative_age.csv", "row 2 Age '-5' is outside [0, 100]"),
        ("infinite_fare.csv", "row 2 Fare 'inf' is not a finite number"),
        ("first_class.csv", "row 2 Pclass 'first' is not a number"),
        ("no_name.csv", "row 2 Name is empty (required)"),
    ],
)
def test_predict_refuses_a_bad_file_before_any_model_loads(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, says: str
) -> None:
    from titanic_mlops.services import scoring

    def no_model(*_: object) -> None:
        raise AssertionError("the model loaded before the input was checked")

    monkeypatch.setattr(scoring, "load_model", no_model)
    for chunking in ([], ["--chunk-rows", "2"]):
        line = run(["predict", "--input", name, "--output", "out.csv", *chunking], capsys)
        assert name in line and says in line
        assert not (files / "out.csv").exists()
    assert not (files / "state").exists(), "a refused input opened the registry"


def test_predict_names_rows_across_chunks_and_counts_the_rest(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(csv.reader(TEST_CSV.open()))
    sex = rows[0].index("Sex")
    for row in rows[1:21]:
        row[sex] = "robot"
    _write(files / "many.csv", rows)
    line = run(["predict", "--input", "many.csv", "--output", "out.csv", "--chunk-rows", "7"], capsys)
    assert "20 problem(s)" in line
    assert "row 1 Sex" in line and "row 5 Sex" in line and "and 15 more" in line


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["predict", "--input", str(TEST_CSV), "--output", "o.csv", "--chunk-rows", "0"], "at least 1"),
        (["validate", "--input", "nothing.parquet", "--params", str(PARAMS)], "run `titanic-mlops ingest`"),
        (["validate", "--input", "binary.bin", "--params", str(PARAMS)], "not a readable parquet table"),
        (["validate"], "params.yaml"),
        (["features"], "run `titanic-mlops validate` first"),
        (["train"], "run `dvc repro` first"),
        (["promote"], "run `dvc repro` first"),
        (["monitor"], "run `dvc repro` (or `make demo`)"),
        (["retrain"], "dvc.yaml"),
        (["simulate", "--scenario", "none", "--rows", "0"], "--rows"),
        (["simulate", "--scenario", "none", "--snapshot", "empty.csv"], "the file is empty"),
        (["migrate-log", "--from", "foo", "--to", "bar"], "unsupported URL"),
        (["migrate-monitoring", "--from", "foo", "--to", "bar"], "unsupported URL"),
    ],
)
def test_each_command_answers_its_common_mistake_in_one_line(
    files: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert says in run(argv, capsys)


MODEL_COMMANDS = (
    ["predict", "--input", str(TEST_CSV), "--output", "out.csv"],
    ["export", "--output", "model.onnx"],
    ["rollback"],
    ["explain", "--input", str(TEST_CSV), "--output", "out.csv"],
)


def test_with_no_registry_yet_the_model_commands_say_what_to_run_and_create_none(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in MODEL_COMMANDS:
        line = run(argv, capsys)
        assert "no MLflow database at " in line and "make demo` or `dvc repro`" in line
    assert not (files / "state").exists(), "a read-only command created a store"
    assert not (files / "out.csv").exists() and not (files / "model.onnx").exists()


@pytest.mark.slow
def test_no_champion_says_what_to_run(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One empty registry (MLflow creates its tables once, ~15 s) for the model commands."""
    from titanic_mlops.services.deployment import Deployment

    Deployment().registry().alias("champion")  # the tables, and no version
    hint = "no version with alias 'champion' (train and promote one with `make demo` or `dvc repro`"
    for argv in MODEL_COMMANDS:
        assert hint in run(argv, capsys)
    assert not (files / "out.csv").exists() and not (files / "model.onnx").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "--input", "x.csv"],
        ["simulate", "--scenario", "baseline"],
        ["serve", "--port", "http"],
        ["no-such-command"],
    ],
)
def test_a_usage_mistake_is_one_line_pointing_at_the_help(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("titanic-mlops") and "error:" in line and line.endswith("--help`")


def test_debug_shows_the_traceback(files: Path) -> None:
    from titanic_mlops.domain.errors import RawDataError

    with pytest.raises(RawDataError, match="the file is empty"):
        main(["--debug", "ingest", "--raw", "empty.csv", "--out", "out.parquet"])


def test_an_unexpected_error_is_one_line_that_says_how_to_see_the_traceback(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from titanic_mlops.services import ingest

    def broken(*_: object) -> None:
        raise KeyError("SibSp")

    monkeypatch.setattr(ingest, "load_training_table", broken)
    capsys.readouterr()
    assert main(["ingest", "--raw", str(TRAIN_CSV), "--out", "out.parquet"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "titanic-mlops ingest: error: unexpected KeyError: 'SibSp'"
        " (this is a bug: rerun with --debug for the traceback and report it)"
    ]


def test_the_console_script_prints_one_line_and_no_traceback(files: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "titanic_mlops.cli", "predict", "--input", "robot.csv", "--output", "o.csv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "titanic-mlops predict: error: robot.csv: nothing scored, 1 problem(s): "
        "row 2 Sex 'robot' is not one of male, female"
    ]
