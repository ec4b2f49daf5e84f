#!/usr/bin/env bash
# Enforces the dependency rules of docs/architecture.md with a grep over the imports.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
imports() { grep -rhoE '^\s*(@preconcurrency\s+|@testable\s+)?import\s+[A-Za-z_]+' "$1" | awk '{print $NF}' | sort -u; }

bad=$(imports Sources/SchedCore | grep -vxE 'Swift' || true)
[ -n "$bad" ] && { echo "layering: SchedCore must import only the standard library, found: $bad"; fail=1; }

bad=$(imports Sources/SchedProtocol | grep -vxE 'SchedCore|FoundationEssentials|Foundation' || true)
[ -n "$bad" ] && { echo "layering: SchedProtocol imports $bad"; fail=1; }

# The control plane is sans-IO: no clock, store, logger, Dispatch, NIO or Foundation.
bad=$(imports Sources/SchedControlPlane | grep -vxE 'SchedCore|SchedProtocol|DequeModule' || true)
[ -n "$bad" ] && { echo "layering: SchedControlPlane must import only SchedCore, SchedProtocol and DequeModule, found: $bad"; fail=1; }
bad=$(imports Sources/SchedSimulation | grep -vxE 'SchedCore|SchedProtocol|SchedControlPlane|Glibc|Musl' || true)
[ -n "$bad" ] && { echo "layering: SchedSimulation imports $bad"; fail=1; }

for d in Sources/*/; do
  t=$(basename "$d")
  [ "$t" = HostTopology ] && continue
  if imports "$d" | grep -qxE 'CHwloc|CNuma|CProcessControl'; then echo "layering: only HostTopology may import CHwloc/CNuma/CProcessControl ($t does)"; fail=1; fi
  case "$t" in SchedNet|SchedClient|SchedulerKit|AgentKit|SchedCtlKit) continue ;; esac
  if imports "$d" | grep -qxE 'NIO|NIOCore|NIOPosix'; then echo "layering: $t must not import NIO"; fail=1; fi
done
# The client links no CLI: sched-bench and the integration tests use it without ArgumentParser or Yams.
bad=$(imports Sources/SchedClient | grep -vxE 'SchedCore|SchedProtocol|SchedNet|NIOCore|FoundationEssentials|Foundation' || true)
[ -n "$bad" ] && { echo "layering: SchedClient imports $bad"; fail=1; }
for d in Sources/sched-bench Tests/IntegrationTests; do
  if imports "$d" | grep -qxE 'SchedCtlKit'; then echo "layering: $d must use SchedClient, not SchedCtlKit"; fail=1; fi
done

for kit in SchedulerKit AgentKit SchedCtlKit; do
  others=$(echo SchedulerKit AgentKit SchedCtlKit | tr ' ' '\n' | grep -vx "$kit" | paste -sd'|')
  if imports "Sources/$kit" | grep -qxE "$others"; then echo "layering: $kit imports another Kit"; fail=1; fi
done
[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
