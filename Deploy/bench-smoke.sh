#!/usr/bin/env bash
# End-to-end smoke benchmark of the walking skeleton: starts the local scheduler (Deploy/run-local.sh,
# on port 7171 in /tmp/bench-local), then
#  1. N sequential `schedctl run --wait -- true` (submit → place → start → exit → ack → reply),
#  2. M back-to-back `schedctl run -- true` submissions,
# and prints the wall times, submit→started latency percentiles from the job records, and schedd's RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}; M=${2:-200}
export SCHED_PORT=7171 SCHED_LOCAL_DIR=/tmp/bench-local SCHED_SCHEDULER=127.0.0.1:7171
rm -rf /tmp/bench-local
Deploy/run-local.sh >/tmp/bench-local.log 2>&1
SCHED_CA=/tmp/bench-local/state/ca.pem SCHED_TOKEN=$(cat /tmp/bench-local/state/admin.token)
export SCHED_CA SCHED_TOKEN
B=$(swift build -c "${SCHED_BUILD:-debug}" --show-bin-path 2>/dev/null)
t0=$(date +%s%N); for _ in $(seq "$N"); do "$B/schedctl" run --wait -- true >/dev/null; done; t1=$(date +%s%N)
echo "sequential run --wait: $N jobs in $(( (t1 - t0) / 1000000 )) ms ($(( (t1 - t0) / 1000 / N )) us per job)"
t0=$(date +%s%N); for _ in $(seq "$M"); do "$B/schedctl" run -- true >/dev/null; done; t1=$(date +%s%N)
echo "submissions: $M in $(( (t1 - t0) / 1000000 )) ms"
"$B/schedctl" jobs -o json --limit 100000 | python3 -c '
import json, sys, time
jobs = json.load(sys.stdin)
lat = sorted(j["startedAtMs"] - j["submittedAtMs"] for j in jobs if j.get("startedAtMs"))
print(f"submit->started: n={len(lat)} p50={lat[len(lat)//2]} ms p99={lat[int(len(lat)*0.99)]} ms")'
grep VmRSS "/proc/$(cat /tmp/bench-local/pids/schedd)/status"
Deploy/run-local.sh stop >/dev/null
