#!/usr/bin/env bash
# Runs the whole test suite: installs the system packages, builds everything, runs every test
# (unit, property and integration tests that start the real binaries on 127.0.0.1), then the
# deterministic fault-injecting simulator over the control plane, then a short fuzzing smoke.
set -euo pipefail
cd "$(dirname "$0")/.."
Deploy/install-deps.sh
Deploy/check-layering.sh
swift build --build-tests
swift test --skip-build "$@"
# The control plane under injected faults: a fixed seed range, then the checker's self-test
# (docs/chaos.md). Either exits non-zero on a violation or a missed planted bug.
.build/debug/sched-bench chaos --seeds 1-30 --steps 3000
.build/debug/sched-bench chaos --self-test
# The parsers under libFuzzer, briefly (docs/protocol.md, "Fuzzing the parsers"): a release build of
# sched-fuzz in .build-fuzz, then the seeds and fresh inputs of each target; exits non-zero on a crash.
Deploy/fuzz.sh --runs 200000
Deploy/fuzz.sh --runs 50000 --target specs
