"""Security checks run in the suite: bandit, the secrets scanner, the SBOM builder."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCAN = ["src", "serving", "pipelines", "monitoring"]


def bandit(*paths: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "bandit"), "-q", "-ll", "-c", str(ROOT / "pyproject.toml"), "-r", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_bandit_finds_nothing_of_medium_severity_or_more_in_the_code() -> None:
    result = bandit(*SCAN)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_would_catch_an_unsafe_yaml_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import yaml\n\ndef read(text):\n    return yaml.load(text)\n")
    result = bandit(bad)
    assert result.returncode != 0
    assert "B506" in result.stdout


def secrets_hook(files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "detect-secrets-hook"), "--baseline", str(ROOT / ".secrets.baseline"), *files],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_no_secret_in_any_tracked_file() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    result = secrets_hook([f for f in files if f != ".secrets.baseline"], ROOT)
    assert result.returncode == 0, result.stdout


def test_the_secrets_scanner_would_catch_a_committed_key(tmp_path: Path) -> None:
    leaked = tmp_path / "settings.py"
    # The planted key lives only in the temporary file; these source lines are allow-listed.
    key_id = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
    leaked.write_text(f'AWS_SECRET_ACCESS_KEY = "{secret}"\naws_access_key_id = "{key_id}"\n')
    result = secrets_hook([str(leaked)], tmp_path)
    assert result.returncode != 0


def test_sbom_lists_every_pinned_component_with_its_hashes() -> None:
    spec = importlib.util.spec_from_file_location("sbom", ROOT / "scripts" / "sbom.py")
    assert spec and spec.loader
    sbom = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sbom)
    text = (
        "fastapi==0.150.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "uvicorn[standard]==0.30.0 ; python_full_version >= '3.11' \\\n    --hash=sha256:" + "c" * 64 + "\n"
    )
    parts = sbom.components(text)
    assert [(p["name"], p["version"], len(p["hashes"])) for p in parts] == [
        ("fastapi", "0.150.0", 2),
        ("uvicorn", "0.30.0", 1),
    ]
    assert parts[0]["purl"] == "pkg:pypi/fastapi@0.150.0"
