#!/usr/bin/env bash
# Run a command under artificial CPU load: one busy process per core (stress-ng when installed,
# else a shell busy loop), stopped when the command ends however it ends. Proves that tests
# synchronise on conditions, not on timing: `make test-services-loaded RUNS=3`.
set -euo pipefail
workers="${LOAD_WORKERS:-$(nproc)}"
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
if command -v stress-ng >/dev/null 2>&1; then
  stress-ng --cpu "$workers" --quiet &
  pids+=("$!")
else
  for _ in $(seq "$workers"); do
    (while :; do :; done) &
    pids+=("$!")
  done
fi
echo "under_load: $workers busy worker(s) ($(command -v stress-ng >/dev/null && echo stress-ng || echo busy loop))"
"$@"
