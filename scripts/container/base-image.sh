#!/usr/bin/env bash
# Print the base image the serving image should build FROM (stdout; logs go to stderr).
#   $BASE_IMAGE when set; else python:3.11-slim when it is present or can be pulled; else a local
#   Debian bookworm + python3 image built once with debootstrap from the machine's own Debian
#   mirror and imported as $TITANIC_MLOPS_LOCAL_BASE (default localhost/debian-python:bookworm).
# Needs a Docker API (eval "$(scripts/container/engine.sh)" first); debootstrap needs root.
set -euo pipefail

log() { echo "base-image: $*" >&2; }
public="python:3.11-slim"
local_base="${TITANIC_MLOPS_LOCAL_BASE:-localhost/debian-python:bookworm}"

if [ -n "${BASE_IMAGE:-}" ]; then
    echo "$BASE_IMAGE"; exit 0
fi
if docker image inspect "$public" >/dev/null 2>&1 || timeout 120 docker pull -q "$public" >/dev/null 2>&1; then
    echo "$public"; exit 0
fi
log "cannot pull $public (no registry?): using the local base $local_base"
if docker image inspect "$local_base" >/dev/null 2>&1; then
    echo "$local_base"; exit 0
fi

# The Debian mirror apt already uses here (deb822 .sources files first, then sources.list).
mirror="$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^URIs:/ {uri=$2} /^Suites:/ {for (i=2; i<=NF; i++) if ($i=="bookworm") found=1}
        /^$/ {if (found && uri ~ /\/debian\/?$/) print uri; uri=""; found=0}
        END {if (found && uri ~ /\/debian\/?$/) print uri}'
      grep -hE '^deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$3=="bookworm" && $2 ~ /\/debian\/?$/ {print $2}'
    } | head -n 1 || true
)"
mirror="${mirror:-http://deb.debian.org/debian}"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || {
    log "debootstrap is missing: run scripts/container/engine.sh (it installs it) or apt-get install debootstrap"
    exit 1; }
[ "$(id -u)" = 0 ] || { log "debootstrap needs root: run as root or pass BASE_IMAGE=..."; exit 1; }

rootfs="$(mktemp -d "${TMPDIR:-/var/tmp}/debian-python.XXXXXX")"
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap bookworm (minbase + python3, python3-venv, ca-certificates) from $mirror"
start=$(date +%s)
PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase \
    --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" >&2
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | docker import \
    -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$local_base" >/dev/null
log "built $local_base in $(( $(date +%s) - start )) s"
echo "$local_base"
