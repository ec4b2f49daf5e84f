#!/usr/bin/env bash
# Runs the whole test suite: installs the system packages, builds everything, runs every test
# (unit, property and integration tests that start the real binaries on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
Deploy/install-deps.sh
Deploy/check-layering.sh
swift build --build-tests
swift test --skip-build "$@"
