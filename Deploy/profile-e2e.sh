#!/usr/bin/env bash
# Profiles schedd (or the whole machine) during the timed part of `sched-bench e2e`: starts the
# benchmark, waits until every emulated node is ready, then runs `perf record` for a while.
#
#   Deploy/profile-e2e.sh NODES JOBS SECONDS [perf record options...]
#   Deploy/profile-e2e.sh 4096 10000 1.2 --call-graph dwarf -F 1000   # schedd only (default)
#   PROFILE_ALL=1 Deploy/profile-e2e.sh 4096 10000 1.0 -g -F 2000     # every process
#
# Writes perf.data in the current directory and prints the benchmark's JSON line. Needs `perf`
# (Debian: linux-perf) and a release build (`swift build -c release`).
set -euo pipefail
nodes=${1:?nodes}; jobs=${2:?jobs}; seconds=${3:?seconds}; shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.build/release
out=$(mktemp)
"$bin/sched-bench" e2e --nodes "$nodes" --jobs "$jobs" --json --keep >"$out" 2>"$out.err" &
bench=$!
until pid=$(pgrep -n -x schedd); do sleep 0.1; done
workdir=$(tr '\0' '\n' </proc/"$pid"/cmdline | grep -A1 -x -- --state-dir | tail -1)
portfile=$(dirname "$workdir")/port
until [ -s "$portfile" ]; do sleep 0.1; done
address=127.0.0.1:$(cat "$portfile")
state=$workdir
until [ -s "$state/admin.token" ]; do sleep 0.1; done
until [ "$("$bin/schedctl" status --scheduler "$address" --ca "$state/ca.pem" --token-file "$state/admin.token" -o json 2>/dev/null |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"].get("ready", 0))' 2>/dev/null)" = "$nodes" ]; do
    sleep 0.2
done
if [ -n "${PROFILE_ALL:-}" ]; then target=(-a); else target=(-p "$pid"); fi
perf record "${target[@]}" "$@" -o perf.data -- sleep "$seconds" 2>/dev/null
wait "$bench"
cat "$out"
rm -rf "$(dirname "$workdir")" "$out" "$out.err"
