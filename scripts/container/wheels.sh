#!/usr/bin/env bash
# Export the serving closure of uv.lock and build its wheels on the host into docker/wheels
# (the image installs them with `pip install --no-index`: nothing is fetched inside a build).
#   docker/wheels/requirements.txt  the locked serving dependencies, with hashes (uv export)
#   docker/wheels/tracking-server.txt  the locked closure of docker/Dockerfile.mlflow (the full
#                                   `mlflow` and psycopg: pyproject's `tracking-server` group)
#   docker/wheels/*.whl             one wheel per requirement (pip wheel --no-deps, hash-checked)
#   docker/wheels/project/*.whl     the project's own wheel (uv build --wheel, rebuilt each time;
#                                   apart, so a code change does not invalidate the layer of deps)
# The dependency wheels are rebuilt only when the closure or this script changes (a stamp says).
# Fails when the closure holds a training-only package (Great Expectations, Evidently, Prefect, DVC,
# statsmodels, fairlearn, skl2onnx)
# or a development tool (mypy, once pulled in by Feast's sqlalchemy[mypy]).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${WHEELS_DIR:-$repo/docker/wheels}"
uv="${UV:-$(command -v uv || echo "$repo/.venv-uv/bin/uv")}"
python="${PYTHON:-$repo/.venv/bin/python}"
log() { echo "wheels: $*" >&2; }
FORBIDDEN_RE='^(great-expectations|evidently|statsmodels|fairlearn|skl2onnx|prefect|prefect-[a-z0-9-]+|dvc|dvc-[a-z0-9-]+|mypy|types-greenlet)=='

mkdir -p "$out"
cd "$repo"
tmp="$(mktemp)"
server="$(mktemp)"
trap 'rm -f "$tmp" "$server"' EXIT
"$uv" export --frozen --no-dev --extra serving --no-emit-project --no-header -q -o "$tmp" >/dev/null
"$uv" export --frozen --only-group tracking-server --no-emit-project --no-header -q -o "$server" >/dev/null
if grep -iE "$FORBIDDEN_RE" "$tmp" >&2; then
    log "the serving closure holds a training-only package (above): refusing to build"
    exit 1
fi

want="$(cat "$tmp" "$server" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"  # the lock's closures + this recipe
if [ "$(cat "$out/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
    log "dependency wheels up to date ($(ls "$out"/*.whl | wc -l) files)"
else
    log "uv.lock's serving closure changed: rebuilding the dependency wheels in $out"
    find "$out" -mindepth 1 -delete
    cp "$tmp" "$out/requirements.txt"
    cp "$server" "$out/tracking-server.txt"
    "$python" -m pip --version >/dev/null 2>&1 || python="python3"
    for list in requirements.txt tracking-server.txt; do
        # Markers on the Python version are dropped for the download: the image's Python (Debian's
        # 3.11.2, or python:3.11-slim's) may need a wheel this host's 3.11 does not (async-timeout).
        # The images install the lists with their markers, so extra wheels just go unused.
        sed -E "s/ ; python(_full)?_version *[<>=!~]+ *'[^']*'( +(and|or) +python(_full)?_version *[<>=!~]+ *'[^']*')* *\\\\$/ \\\\/" \
            "$out/$list" >"$tmp"
        # hashes in the file put pip in hash-checking mode: every download must match uv.lock
        "$python" -m pip wheel -q --no-deps -r "$tmp" -w "$out" >&2
    done
    echo "$want" >"$out/.requirements.sha256"
fi
rm -rf "$out/project"
"$uv" build --wheel -q -o "$out/project" >&2
log "$(ls "$out"/*.whl | wc -l) dependency wheels + $(ls "$out"/project/*.whl), $(du -sh "$out" | cut -f1)"
