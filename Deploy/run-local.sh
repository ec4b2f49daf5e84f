#!/usr/bin/env bash
# Runs the scheduler for real on this machine:
#   installs the system packages, builds, starts schedd (embedded SQLite store) and an agent on
#   this machine, plus two emulated agents (a Kunpeng 920 Arm server and a DGX-2 with 16 NVLink
#   GPUs, from real hwloc XMLs), submits a demo job and shows where it ran and what it printed.
# Usage: Deploy/run-local.sh          start and run the demo
#        Deploy/run-local.sh stop     stop everything it started
#        Deploy/run-local.sh status   show what is running
# Environment: SCHED_PORT (default 7070), SCHED_LOCAL_DIR (default ./.sched-local),
#              SCHED_BUILD=release to build optimised binaries (slower first build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${SCHED_LOCAL_DIR:-$ROOT/.sched-local}
PORT=${SCHED_PORT:-7070}
CONFIG=${SCHED_BUILD:-debug}
ADDR=127.0.0.1:$PORT

stop() {
  if [ -d "$DIR/pids" ]; then
    for f in "$DIR"/pids/*; do
      [ -e "$f" ] || continue
      pid=$(cat "$f"); kill "$pid" 2>/dev/null && echo "stopped $(basename "$f") (pid $pid)" || true
    done
    rm -rf "$DIR/pids"
  fi
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  status) ls "$DIR/pids" 2>/dev/null | sed 's/^/running: /' || echo "nothing running"; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

Deploy/install-deps.sh
echo "== building ($CONFIG)"
swift build -c "$CONFIG" --product schedd
swift build -c "$CONFIG" --product sched-agent
swift build -c "$CONFIG" --product schedctl
BIN=$(swift build -c "$CONFIG" --show-bin-path)

stop
mkdir -p "$DIR/pids" "$DIR/logs"
STATE=$DIR/state
# This script's own schedctl calls use the admin token; what it prints for the user is a config
# file (below). SCHED_CONFIG from the caller's shell is not this script's.
unset SCHED_CONFIG SCHED_CONTEXT
export SCHED_SCHEDULER=$ADDR SCHED_CA=$STATE/ca.pem

echo "== starting schedd on $ADDR (state in $STATE)"
"$BIN/schedd" --listen "$ADDR" --state-dir "$STATE" --port-file "$DIR/port" >"$DIR/logs/schedd.log" 2>&1 &
echo $! >"$DIR/pids/schedd"
# schedd writes its CA (ca.pem) and its cluster-admin token (admin.token, mode 0600) before it
# listens; --port-file appears once it listens.
rm -f "$DIR/port"
for _ in $(seq 150); do [ -s "$DIR/port" ] && break; sleep 0.2; done
[ -s "$DIR/port" ] || { echo "schedd did not start; see $DIR/logs/schedd.log" >&2; exit 1; }
# The token goes to the tools through the environment or a file, never on a command line.
SCHED_TOKEN=$(cat "$STATE/admin.token")
export SCHED_TOKEN

# A config file for schedctl (address, CA and token, 0600), checked by schedd before it is written.
CONF=$DIR/config.toml
"$BIN/schedctl" login --config "$CONF" --scheduler "$ADDR" --ca "$STATE/ca.pem" --token-file "$STATE/admin.token"

XML=$ROOT/Tests/IntegrationTests/Fixtures
echo "== starting agents: this machine, plus emulated 'kunpeng' and 'dgx2'"
# Agents join with a join token good for three joins (1 h): each sends a certificate request
# once, keeps its node key and certificate in its work directory and uses mutual TLS from then
# on (a later run reuses them; the token is then left unused and expires). A node whose work
# directory was deleted while schedd kept its certificate is revoked first, so it can join again.
JOIN=$DIR/join.token
(umask 077; "$BIN/schedctl" token create --agent --uses 3 --ttl 1h >"$JOIN")
for n in local:"$(hostname)" kunpeng:kunpeng dgx2:dgx2; do
  if [ ! -s "$DIR/agent-${n%%:*}/node.pem" ]; then "$BIN/schedctl" node revoke "${n#*:}" >/dev/null 2>&1 || true; fi
done
AGENT=("$BIN/sched-agent" --join-token-file "$JOIN")
"${AGENT[@]}" --work-dir "$DIR/agent-local" >"$DIR/logs/agent-local.log" 2>&1 &
echo $! >"$DIR/pids/agent-local"
"${AGENT[@]}" --node-name kunpeng --topology-xml "$XML/128arm-2pa2n8cluster4co.xml" --work-dir "$DIR/agent-kunpeng" >"$DIR/logs/agent-kunpeng.log" 2>&1 &
echo $! >"$DIR/pids/agent-kunpeng"
"${AGENT[@]}" --node-name dgx2 --topology-xml "$XML/nvidiaDGX2.xml" --work-dir "$DIR/agent-dgx2" >"$DIR/logs/agent-dgx2.log" 2>&1 &
echo $! >"$DIR/pids/agent-dgx2"

# Wait (up to 30 s) until all three nodes are ready.
for _ in $(seq 150); do
  ready=$("$BIN/schedctl" nodes 2>/dev/null | awk 'NR>1 && $2=="ready"' | wc -l || true)
  [ "$ready" -ge 3 ] && break
  sleep 0.2
done
"$BIN/schedctl" nodes

echo
echo "== demo job: 2 CPUs on this machine's architecture, printing its binding"
"$BIN/schedctl" run --name demo --cpus 2 --arch "$(uname -m)" --wait -- \
  sh -c 'echo "hello from $(hostname), job $SCHED_JOB_ID on node $SCHED_NODE"; grep -E "Cpus_allowed_list|Mems_allowed_list" /proc/self/status; echo "SCHED_CPUS=$SCHED_CPUS SCHED_NUMA_NODES=$SCHED_NUMA_NODES"' \
  | tee "$DIR/demo.txt"
OUT=$(awk '/^stdout:/ {print $2}' "$DIR/demo.txt")
echo
echo "== its output ($OUT)"
cat "$OUT"
echo
echo "== why it went there"
"$BIN/schedctl" explain "$("$BIN/schedctl" jobs -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])' 2>/dev/null || echo 1)"
cat <<EOT

The scheduler keeps running (TLS with its own CA; schedctl's address, CA and admin token are in
$CONF, mode 0600). One line sets up this shell:
  export SCHED_CONFIG=$CONF PATH="$BIN:\$PATH"
Then try:
  schedctl run --gpus 4 --wait -- sh -c 'echo \$CUDA_VISIBLE_DEVICES'    # lands on the emulated DGX-2
  schedctl jobs; schedctl log; schedctl nodes
Logs: $DIR/logs    Stop everything: Deploy/run-local.sh stop
EOT
