#!/usr/bin/env bash
# Fuzzes the line framing, every message parser and the job-spec parser with libFuzzer
# (Sources/sched-fuzz; docs/operations.md, "Fuzzing").
# Usage: Deploy/fuzz.sh [--runs N] [--jobs J] [--target lines|specs] [--max-len BYTES] [--no-asan] [-- LIBFUZZER-FLAGS...]
#   --runs N      inputs to run in all (default 1000000), split over the jobs
#   --jobs J      parallel fuzzing processes sharing one corpus (default 1)
#   --target T    lines (a peer's byte stream, default) or specs (a job-spec file)
#   --max-len B   the largest input libFuzzer makes (default 16384)
#   --no-asan     without AddressSanitizer (faster; Swift's own checks still trap)
# Builds a release binary with libFuzzer and ASan in its own scratch path (.build-fuzz), seeds from
# Tests/FuzzCorpus/TARGET, keeps the inputs it finds in .build-fuzz/corpus/TARGET and writes any
# crash to .build-fuzz/crashes/TARGET/ (all outside git). Exits non-zero on a crash or a failed check.
# The libFuzzer runtime is the Swift toolchain's (usr/lib/clang/*/lib/linux/libclang_rt.fuzzer*).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=1000000 JOBS=1 TARGET=lines MAXLEN=16384 ASAN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    --max-len) MAXLEN=$2; shift 2 ;;
    --no-asan) ASAN=0; shift ;;
    --) shift; break ;;
    *) echo "usage: $0 [--runs N] [--jobs J] [--target lines|specs] [--max-len BYTES] [--no-asan] [-- LIBFUZZER-FLAGS...]" >&2; exit 2 ;;
  esac
done
case "$TARGET" in lines|specs) ;; *) echo "fuzz: --target must be lines or specs" >&2; exit 2 ;; esac

SCRATCH=.build-fuzz
# `--sanitize=fuzzer` tells SwiftPM to leave libFuzzer's `main` alone. swiftc keeps only its last
# -sanitize= flag (`--sanitize fuzzer --sanitize address` builds without coverage), so ASan joins
# in one list after it. C targets (libyaml, NIO's shims) are instrumented too.
if [ "$ASAN" = 1 ]; then swift_san=fuzzer,address c_san=fuzzer-no-link,address; else swift_san=fuzzer c_san=fuzzer-no-link; fi
build=(swift build -c release --scratch-path "$SCRATCH" --product sched-fuzz --sanitize=fuzzer
       -Xswiftc -sanitize=$swift_san -Xcc -fsanitize=$c_san -Xswiftc -DSCHED_FUZZING)
echo "fuzz: ${build[*]}"
"${build[@]}"
BIN=$("${build[@]}" --show-bin-path)/sched-fuzz

SEEDS=Tests/FuzzCorpus/$TARGET
CORPUS=$SCRATCH/corpus/$TARGET CRASHES=$SCRATCH/crashes/$TARGET LOGS=$SCRATCH/logs
mkdir -p "$CORPUS" "$CRASHES" "$LOGS"
flags=(-runs=$(( (RUNS + JOBS - 1) / JOBS )) -max_len="$MAXLEN" -timeout=30 -print_final_stats=1
       -artifact_prefix="$CRASHES/" -dict="Tests/FuzzCorpus/$TARGET.dict")
# Hashing and dictionary order stay the same from run to run, so a crash replays.
export SWIFT_DETERMINISTIC_HASHING=1 SCHED_FUZZ_TARGET=$TARGET
# The runtime's caches look like leaks to LeakSanitizer; Swift does not leak them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

marker=$SCRATCH/.fuzz-start-$TARGET
touch "$marker"
pids=()
for j in $(seq 1 "$JOBS"); do
  "$BIN" "${flags[@]}" -seed="$j" "$@" "$CORPUS" "$SEEDS" >"$LOGS/$TARGET-$j.log" 2>&1 &
  pids+=($!)
done
echo "fuzz: $JOBS job(s) of ${flags[0]#-runs=} inputs ($TARGET), logs in $LOGS/$TARGET-*.log"
status=0
for j in $(seq 1 "$JOBS"); do
  wait "${pids[$((j - 1))]}" || status=1
  log=$LOGS/$TARGET-$j.log
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed "s/^/fuzz: job $j: /" || true
  grep -E '^(stat::|Done )' "$log" | sed "s/^/fuzz: job $j: /" || true
  if grep -qE '^(==[0-9]+== ?ERROR|SUMMARY: libFuzzer|.*sched-fuzz: )' "$log"; then
    status=1
    grep -E 'sched-fuzz: |ERROR: |SUMMARY: |Test unit written to' "$log" | head -20 | sed "s/^/fuzz: job $j: /"
  fi
done
echo "fuzz: corpus $(find "$CORPUS" -type f | wc -l) inputs in $CORPUS; new crashes: $(find "$CRASHES" -type f -newer "$marker" | wc -l) in $CRASHES"
[ "$status" = 0 ] && echo "fuzz: no crash" || echo "fuzz: FAILED (replay a crash: $BIN CRASH-FILE)"
exit "$status"
