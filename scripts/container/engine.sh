#!/usr/bin/env bash
# Make a Docker API answer for the docker CLI, then print the shell lines that point at it.
#   eval "$(scripts/container/engine.sh)"
# A working `docker info` (a real Docker daemon, e.g. on a laptop) means nothing to do: prints
# nothing. Otherwise: installs podman, runc and debootstrap with apt-get when missing, and starts
# `podman system service` on a socket under $TITANIC_MLOPS_CONTAINER_DIR (default
# $TITANIC_MLOPS_STATE_DIR/container, or .state/container) unless one already answers there.
# Logs go to stderr; stdout carries only `export ...` lines.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "engine: $*" >&2; }

if command -v docker >/dev/null 2>&1 && docker --version 2>/dev/null | grep -qi podman; then
    log "docker is Podman's wrapper (podman-docker); using it with $repo/docker/containers.conf"
    printf 'export CONTAINERS_CONF=%q\nexport DOCKER_BUILDKIT=0\n' "$repo/docker/containers.conf"
    exit 0
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    log "a Docker API answers${DOCKER_HOST:+ on $DOCKER_HOST}; using it"
    exit 0
fi

dir="${TITANIC_MLOPS_CONTAINER_DIR:-${TITANIC_MLOPS_STATE_DIR:-$repo/.state}/container}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
socket="$dir/podman.sock"
conf="$repo/docker/containers.conf"
export CONTAINERS_CONF="$conf"
export DOCKER_HOST="unix://$socket"

if docker info >/dev/null 2>&1; then
    log "podman service already answers on $socket"
else
    missing=""
    command -v podman >/dev/null 2>&1 || missing="$missing podman"
    command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing="$missing runc"
    command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing="$missing debootstrap"
    # no docker CLI at all: Debian's podman-docker provides one that runs podman directly
    command -v docker >/dev/null 2>&1 || missing="$missing podman-docker"
    if [ -n "$missing" ]; then
        command -v apt-get >/dev/null 2>&1 || {
            log "no Docker daemon and no apt-get: install$missing (or Docker) by hand"; exit 1; }
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        log "apt-get install$missing"
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
    fi
    rm -f "$socket"
    log "starting podman system service on $socket (log: $dir/podman-service.log)"
    # BUILDAH_FORMAT=docker: builds through the API keep HEALTHCHECK (the OCI format drops it)
    BUILDAH_FORMAT=docker setsid nohup podman system service --time=0 "unix://$socket" \
        >"$dir/podman-service.log" 2>&1 </dev/null &
    echo $! >"$dir/podman-service.pid"
    for _ in $(seq 1 100); do
        docker info >/dev/null 2>&1 && break
        sleep 0.1
    done
    docker info >/dev/null 2>&1 || {
        log "podman service did not answer on $socket; see $dir/podman-service.log"
        tail -n 20 "$dir/podman-service.log" >&2 || true
        exit 1; }
fi
# Podman's Docker API has no BuildKit: the docker CLI must use its classic builder.
printf 'export CONTAINERS_CONF=%q\nexport DOCKER_HOST=%q\nexport DOCKER_BUILDKIT=0\n' \
    "$CONTAINERS_CONF" "$DOCKER_HOST"
