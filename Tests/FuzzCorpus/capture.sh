#!/usr/bin/env bash
# Records the lines of a short real session into OUT (default /tmp/sched-capture): schedd, two
# emulated agents (the test fixtures' DGX-2 with labels, the 128-PU Arm server) and schedctl
# commands, all talking through relay.py, which logs every line (`CONN DIR LINE`, in lines.log).
# Also dumps the store's records (jobs, nodes, placements) to records.log. Needs a debug build.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/sched-capture}
BIN=$(swift build --show-bin-path)
XML=Tests/IntegrationTests/Fixtures
SPORT=7291 RPORT=7292
rm -rf "$OUT" && mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$BIN/schedd" --listen 127.0.0.1:$SPORT --state-dir "$OUT/state" --queue wide=spread --port-file "$OUT/port" \
  >"$OUT/schedd.log" 2>&1 & pids+=($!)
until [ -s "$OUT/port" ]; do sleep 0.1; done
python3 Tests/FuzzCorpus/relay.py $RPORT $SPORT "$OUT/lines.log" & pids+=($!)
export SCHED_SCHEDULER=127.0.0.1:$RPORT
until "$BIN/schedctl" status >/dev/null 2>&1; do sleep 0.1; done
"$BIN/sched-agent" --node-name dgx2 --topology-xml $XML/nvidiaDGX2.xml --work-dir "$OUT/dgx2" \
  --label zone=lab --nvlink-domain rack-7 >"$OUT/dgx2.log" 2>&1 & pids+=($!)
"$BIN/sched-agent" --node-name arm --topology-xml $XML/128arm-2pa2n8cluster4co.xml --work-dir "$OUT/arm" \
  >"$OUT/arm.log" 2>&1 & pids+=($!)
until [ "$("$BIN/schedctl" nodes | grep -c ready)" = 2 ]; do sleep 0.2; done

c() { "$BIN/schedctl" "$@" || true; }
c run --wait -- true
c run --wait --cpus 4 --memory 1GiB --env A=b -- sh -c 'exit 3'
c run --wait -- /no/such/program
c run --wait --gpus 0.5 --queue wide --name share -- true
c run --wait --gpus 2 --node-selector nvlink.domain=rack-7 -- true
c run --wait --arch aarch64 --cpus 8 --array 3 -- true
c run --wait --gpus 1 --array 2 --gang --nvlink preferred -- true
c run --cpus 100000 --time-limit 5 -- true   # never fits: pending, with an explanation
c submit docs/examples/cpu-hello.yaml docs/examples/shared-gpu.yaml docs/examples/rack-selector.yaml
c submit docs/examples/arm-only.yaml --wait
long=$("$BIN/schedctl" run --priority 5 --preemptible --checkpoint-signal USR1 -- sleep 60)
svc=$("$BIN/schedctl" run --service --array 2 --tenant team-a -- sleep 60 | cut -d- -f1)
c run --wait --time-limit 1 -- sleep 30
printf 'command: [sleep, "61"]\nservice: true\narray: 2\ntenant: team-a\n' >"$OUT/svc.yaml"
c update "$svc" "$OUT/svc.yaml" --wait
c jobs
c jobs --state running
c job "$long"
c explain "$long"
c cancel "$long"
c explain 4
c job 999999
c nodes
c nodes -o json --topology >/dev/null
c drain arm --reason maintenance
c undrain arm
c log --limit 20
c log --job 2
c status
c cancel "$svc"
cleanup
trap - EXIT
wait 2>/dev/null || true
for t in jobs nodes placements; do
  sqlite3 "$OUT/state/schedd.sqlite" "SELECT data FROM $t" | sed "s/^/$t /"
done >"$OUT/records.log"
echo "capture: $(wc -l <"$OUT/lines.log") lines in $OUT/lines.log, $(wc -l <"$OUT/records.log") records in $OUT/records.log"
