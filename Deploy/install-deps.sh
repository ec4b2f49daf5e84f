#!/usr/bin/env bash
# Installs every Debian package that building, running and testing the scheduler needs.
# Idempotent: packages already present are left alone and apt is not touched at all.
set -euo pipefail

PACKAGES=(
  pkg-config      # SwiftPM resolves the hwloc and numa system-library targets through it
  libhwloc-dev    # topology discovery in sched-agent (hwloc 2.x; loads hwloc XML 1.x and 2.x)
  libnuma-dev     # free memory per NUMA node and memory binding in sched-agent
  hwloc           # lstopo/hwloc-calc: handy to inspect a node; not linked
  libsqlite3-dev  # the embedded store (GRDB links the system SQLite)
  procps          # ps/pkill used by the demo script
  openssl         # openssl s_client: talk the line protocol by hand, inside TLS (docs/protocol.md)
  python3         # the demo reads JSON with it; the connection-limit tests' slow TLS client
  jq              # Deploy/check-layering.sh reads the targets' dependencies from `swift package dump-package`
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present (${PACKAGES[*]})"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

if ! command -v swift >/dev/null 2>&1; then
  echo "install-deps: warning: no 'swift' on PATH; install Swift 6.x from swift.org (see README.md)" >&2
fi
