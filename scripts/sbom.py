"""A CycloneDX 1.5 SBOM from a `uv export` requirements file: name, version, purl, sha256 hashes.

Offline on purpose: the lock already pins every component and its hashes.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def components(text: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            name, version = match.group(1).lower(), match.group(3)
            current = {
                "type": "library",
                "name": name,
                "version": version,
                "purl": f"pkg:pypi/{name}@{version}",
                "hashes": [],
            }
            found.append(current)
        if current is not None:
            hashes = current["hashes"]
            assert isinstance(hashes, list)
            hashes.extend({"alg": "SHA-256", "content": h} for h in _HASH.findall(line))
    return found


def main(lock: Path, out: Path) -> int:
    parts = components(lock.read_text())
    if not parts:
        raise SystemExit(f"{lock}: no pinned requirements found")
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat(),
            "component": {"type": "application", "name": "titanic-mlops-serving"},
        },
        "components": parts,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(sbom, indent=2) + "\n")
    sys.stdout.write(f"sbom: {len(parts)} components -> {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
