#!/usr/bin/env bash
# Smoke-test the serving image on a trained state (what `make container-test` runs after
# `make image`). Needs a Docker API (eval "$(scripts/container/engine.sh)").
#   SERVING_IMAGE               image to test (default titanic-mlops-serving:latest)
#   TITANIC_MLOPS_STATE_DIR     the trained state: MLflow SQLite + artifacts, Feast registry/online store
#   TITANIC_MLOPS_FEATURE_REPO  the Feast repo (default feature_repo); its ../data/features is mounted too
#   READY_TIMEOUT               seconds to wait for /ready (default 180)
# MLflow records artifact locations as absolute paths, and Feast's sources are relative to the
# repo, so every one of them is mounted at its own absolute host path. The state is a snapshot
# (mlflow/ and feast/ copied, made writable for the image's non-root user): the smoke run's
# predictions never reach the host's prediction log. Prints `ok <check>` per passed check, then a
# table; exits non-zero at the first failed check (after printing the container's log).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image="${SERVING_IMAGE:-titanic-mlops-serving:latest}"
python="${PYTHON:-python3}"
timeout="${READY_TIMEOUT:-180}"
state="$(realpath "${TITANIC_MLOPS_STATE_DIR:-$repo/.state}")"
feature_repo="$(realpath "${TITANIC_MLOPS_FEATURE_REPO:-$repo/feature_repo}")"
features="$(realpath -m "$feature_repo/../data/features")"
name="titanic-mlops-smoke-$$"
fail() { echo "FAIL $*" >&2; docker logs --tail 60 "$name" >&2 2>&1 || true; exit 1; }

for path in "$state/mlflow/mlflow.db" "$state/feast/registry.db" "$state/feast/online_store.db" \
    "$feature_repo/feature_store.yaml" "$features"; do
    [ -e "$path" ] || { echo "FAIL missing $path: train first (make pipeline)" >&2; exit 1; }
done
snapshot="$(mktemp -d "${TMPDIR:-/tmp}/titanic-mlops-state.XXXXXX")"
cleanup() {
    docker rm -f "$name" >/dev/null 2>&1 || true
    rm -rf "$snapshot" 2>/dev/null || true
}
trap cleanup EXIT
cp -a "$state/mlflow" "$state/feast" "$snapshot/"
chmod -R a+rwX "$snapshot"

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
started=$(date +%s.%N)
docker run -d --name "$name" -p "127.0.0.1:$port:8000" \
    -v "$snapshot:$state" \
    -v "$feature_repo:$feature_repo:ro" \
    -v "$features:$features:ro" \
    -e "TITANIC_MLOPS_STATE_DIR=$state" \
    -e "TITANIC_MLOPS_FEATURE_REPO=$feature_repo" \
    "$image" >/dev/null

# HTTP from the host with Python's standard library (no curl needed): prints "<status> <body>".
http() {
    "$python" - "$@" <<'PY'
import sys, urllib.error, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
except OSError as error:
    print(0, error)
PY
}

deadline=$(( $(date +%s) + timeout ))
until [ "$(http GET "$base/ready" | cut -d' ' -f1)" = 200 ]; do
    [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || fail "ready: the container exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail "ready: no 200 from /ready within ${timeout}s"
    sleep 0.5
done
ready_s="$("$python" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$started" "$(date +%s.%N)")"
echo "ok ready: /ready answered 200 ${ready_s}s after docker run"

body='{"instances": [
  {"PassengerId": 892, "Pclass": 3, "Name": "Kelly, Mr. James", "Sex": "male", "Age": 34.5,
   "SibSp": 0, "Parch": 0, "Ticket": "330911", "Fare": 7.8292, "Cabin": null, "Embarked": "Q"},
  {"Pclass": 1, "Name": "Smith, Mrs. Jane", "Sex": "female", "Age": null, "SibSp": 1,
   "Parch": 0, "Ticket": "PC 17599", "Fare": 71.2833, "Cabin": "C85", "Embarked": "C"}]}'
read -r status answer < <(http POST "$base/predict" "$body")
[ "$status" = 200 ] || fail "predict: status $status: $answer"
version="$(printf '%s' "$answer" | "$python" -c '
import json, sys
a = json.load(sys.stdin)
assert a.get("model_version"), "no model_version"
assert len(a["predictions"]) == 2, "expected 2 predictions"
for p in a["predictions"]:
    assert p["survived"] in (0, 1) and 0.0 <= p["probability"] <= 1.0, p
print(a["model_version"])')" || fail "predict: unexpected answer: $answer"
echo "ok predict: 200, model_version $version, 2 predictions"

read -r status answer < <(http GET "$base/health")
[ "$status" = 200 ] || fail "health: status $status: $answer"
echo "ok health: 200"

# Podman 4's Docker API leaks a conmon process per `docker exec`; its own CLI does not.
exec_cli=docker
[ -n "${CONTAINERS_CONF:-}" ] && command -v podman >/dev/null 2>&1 && exec_cli=podman
uid="$("$exec_cli" exec "$name" id -u)"
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "non-root: the server runs as uid '$uid'"
echo "ok non-root: uid $uid"

docker run --rm --entrypoint python "$image" -c '
import importlib.util, sys
bad = [m for m in ("great_expectations", "evidently", "prefect", "dvc") if importlib.util.find_spec(m)]
missing = [m for m in ("titanic_mlops", "serving", "fastapi", "uvicorn", "onnxruntime", "mlflow", "feast")
           if importlib.util.find_spec(m) is None]
print("training-only packages:", bad, "missing:", missing)
sys.exit(1 if bad or missing else 0)' || fail "packages: the image holds a training-only package or lacks a serving one"
echo "ok packages: no great_expectations, evidently, prefect or dvc; the serving stack is there"

check="$(docker image inspect -f '{{json .Config.Healthcheck}}' "$image")"
# Podman 4's Docker API leaves the health check out of `docker image inspect`; ask podman itself
case "$check" in *"/health"*) ;; *)
    if command -v podman >/dev/null 2>&1; then
        check="$(podman image inspect -f '{{json .HealthCheck}}' "$image" 2>/dev/null || true)"
    fi ;;
esac
case "$check" in *"/health"*) echo "ok healthcheck: $check" ;; *) fail "healthcheck: none in the image ($check)" ;; esac

size_mb=$(( $(docker image inspect -f '{{.Size}}' "$image") / 1000000 ))
printf '\n| image | size | start to ready | model version |\n| --- | --- | --- | --- |\n'
printf '| %s | %s MB | %s s | %s |\n' "$image" "$size_mb" "$ready_s" "$version"
