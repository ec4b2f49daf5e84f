#!/usr/bin/env bash
# Enforces the dependency rules of docs/architecture.md with a grep over the imports.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
# The modules a directory's Swift files import: `import X`, `@testable import X`, `internal import X`,
# `import struct X.Y` and `import X.Sub` all count as X.
imports() {
  grep -rhoE --include='*.swift' \
    '^\s*(@\w+\s+)*((public|package|internal|fileprivate|private)\s+)?import\s+((typealias|struct|class|enum|protocol|let|var|func)\s+)?[A-Za-z_][A-Za-z0-9_]*' \
    "$1" | awk '{print $NF}' | sort -u
}

bad=$(imports Sources/SchedCore | grep -vxE 'Swift' || true)
[ -n "$bad" ] && { echo "layering: SchedCore must import only the standard library, found: $bad"; fail=1; }

bad=$(imports Sources/SchedProtocol | grep -vxE 'SchedCore|FoundationEssentials|Foundation' || true)
[ -n "$bad" ] && { echo "layering: SchedProtocol imports $bad"; fail=1; }

# The control plane is sans-IO: no clock, store, logger, Dispatch, NIO or Foundation.
bad=$(imports Sources/SchedControlPlane | grep -vxE 'SchedCore|SchedProtocol|DequeModule' || true)
[ -n "$bad" ] && { echo "layering: SchedControlPlane must import only SchedCore, SchedProtocol and DequeModule, found: $bad"; fail=1; }
bad=$(imports Sources/SchedSimulation | grep -vxE 'SchedCore|SchedProtocol|SchedControlPlane|Glibc|Musl' || true)
[ -n "$bad" ] && { echo "layering: SchedSimulation imports $bad"; fail=1; }

# Trust is pure crypto and files: swift-certificates, swift-crypto, swift-asn1 and the system; no
# NIO (TLS is SchedNet's), no store, no protocol (SchedulerKit brings them together).
bad=$(imports Sources/SchedTrust | grep -vxE 'X509|Crypto|SwiftASN1|Foundation|FoundationEssentials|Glibc|Musl|Darwin' || true)
[ -n "$bad" ] && { echo "layering: SchedTrust must import only X509, Crypto, SwiftASN1 and system modules, found: $bad"; fail=1; }
# Keys are made and certificates signed in SchedTrust only: nothing else imports swift-crypto.
for d in Sources/*/; do
  t=$(basename "$d")
  [ "$t" = SchedTrust ] && continue
  if imports "$d" | grep -qxE 'Crypto|_CryptoExtras'; then echo "layering: only SchedTrust may import Crypto ($t does)"; fail=1; fi
done

for d in Sources/*/; do
  t=$(basename "$d")
  [ "$t" = HostTopology ] && continue
  if imports "$d" | grep -qxE 'CHwloc|CNuma|CProcessControl'; then echo "layering: only HostTopology may import CHwloc/CNuma/CProcessControl ($t does)"; fail=1; fi
  # NIO stays inside SchedNet: everything else uses its NIO-free API (LineConnection, LineServer, LineClient).
  [ "$t" = SchedNet ] && continue
  if imports "$d" | grep -qE '^_?NIO'; then echo "layering: only SchedNet may import NIO ($t imports $(imports "$d" | grep -E '^_?NIO' | paste -sd' '))"; fail=1; fi
done
# The client links no CLI: sched-bench and the integration tests use it without ArgumentParser or Yams.
bad=$(imports Sources/SchedClient | grep -vxE 'SchedCore|SchedProtocol|SchedNet|FoundationEssentials|Foundation' || true)
[ -n "$bad" ] && { echo "layering: SchedClient imports $bad"; fail=1; }
for d in Sources/sched-bench Tests/IntegrationTests Tests/SchedIntegrationSupport; do
  if imports "$d" | grep -qxE 'SchedCtlKit'; then echo "layering: $d must use SchedClient, not SchedCtlKit"; fail=1; fi
done

# Test support is for test targets only: nothing in Sources (no product) imports it, and the pure
# part stays on the pure modules (no Foundation, NIO or processes).
for d in Sources/*/; do
  if imports "$d" | grep -qxE 'SchedTestSupport|SchedIntegrationSupport'; then echo "layering: $(basename "$d") imports test support"; fail=1; fi
done
bad=$(imports Tests/SchedTestSupport | grep -vxE 'SchedCore|SchedProtocol|SchedControlPlane|Testing' || true)
[ -n "$bad" ] && { echo "layering: SchedTestSupport imports $bad"; fail=1; }

for kit in SchedulerKit AgentKit SchedCtlKit; do
  others=$(echo SchedulerKit AgentKit SchedCtlKit | tr ' ' '\n' | grep -vx "$kit" | paste -sd'|')
  if imports "Sources/$kit" | grep -qxE "$others"; then echo "layering: $kit imports another Kit"; fail=1; fi
done
# Every target declares what it imports: each imported module is a dependency of the target in
# Package.swift (read through `swift package dump-package`), or a system module. A module that is
# only reachable through another dependency builds today and breaks when that one drops it.
# A product dependency counts as the module of the same name (true of every product used here).
system='Swift|_Concurrency|Foundation|FoundationEssentials|FoundationNetworking|Dispatch|Synchronization|Glibc|Musl|Darwin'
manifest=$(swift package dump-package)
for d in Sources/*/; do
  t=$(basename "$d")
  if ! jq -e --arg t "$t" 'any(.targets[]; .name == $t)' <<<"$manifest" >/dev/null; then
    echo "layering: $d is no target in Package.swift"; fail=1; continue
  fi
  declared=$(jq -r --arg t "$t" '.targets[] | select(.name == $t) | .dependencies[] | (.byName // .target // .product)[0]' <<<"$manifest")
  for m in $(imports "$d"); do
    grep -qxE "$system" <<<"$m" && continue
    grep -qxF "$m" <<<"$declared" || { echo "layering: $t imports $m but does not declare it in Package.swift"; fail=1; }
  done
  # ... and only SchedNet depends on swift-nio at all.
  if [ "$t" != SchedNet ] && jq -e --arg t "$t" '.targets[] | select(.name == $t) | any(.dependencies[]; .product? and (.product[1] | startswith("swift-nio")))' <<<"$manifest" >/dev/null; then
    echo "layering: only SchedNet may depend on swift-nio ($t does)"; fail=1
  fi
done

[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
