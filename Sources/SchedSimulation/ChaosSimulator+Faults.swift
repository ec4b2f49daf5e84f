import SchedControlPlane
import SchedCore
import SchedProtocol

/// Fault injection, from the seeded generator, during the fault phase only.
extension ChaosSimulator {
    mutating func injectFault() {
        guard !quietPhase else { return }
        defer { queue.push(.fault, at: nowMs + Int64(random(200...2500))) }
        let kinds = FaultSet.names.map(\.1).filter { config.faults.contains($0) }
        guard !kinds.isEmpty else { return }
        let kind = kinds[random(0...(kinds.count - 1))]
        let i = random(0...(agents.count - 1))
        switch kind {
        case .scheddCrash:
            guard chance(0.4) else { return }
            crashSchedd()
        case .agentCrash:
            crashAgent(i, tasksSurvive: chance(0.5))
        case .network:
            if chance(0.3), let link = agents[i].link, scheddLinks.contains(link) {
                // A reset connection: both sides see it close; lines in flight are lost.
                note("\(agents[i].node): connection \(link) reset")
                queue.push(.linkClosedBySchedd(i, link), at: nowMs)
            } else {
                networkChaosUntil = nowMs + Int64(random(500...4000))
                note("network: lines delayed, duplicated and reordered until t=\(networkChaosUntil)")
            }
        case .partition:
            agents[i].partitionedUntil = nowMs + Int64(random(500...12_000))
            note("\(agents[i].node): partitioned until t=\(agents[i].partitionedUntil)")
        case .store:
            if chance(0.5) {
                storeFailuresLeft += random(1...6)
                note("store: the next \(storeFailuresLeft) operations fail")
            } else {
                storeStallUntil = nowMs + Int64(random(500...5000))
                note("store: stalls until t=\(storeStallUntil)")
            }
        case .clock:
            if chance(0.5) {
                wallOffsetMs += Int64(random(-3_600_000...3_600_000))
                note("clock: the wall clock jumps")
            } else {
                slowTimersUntil = nowMs + Int64(random(500...5000))
                note("clock: timers fire late until t=\(slowTimersUntil)")
            }
        default:
            break
        }
    }

    /// Faults stop: every fault heals, every agent and schedd comes back, drained nodes are
    /// undrained and services cancelled, so every job that fits can run and end.
    mutating func beginQuiet() {
        quietStartedMs = nowMs
        storeFailuresLeft = 0
        storeStallUntil = 0
        slowTimersUntil = 0
        networkChaosUntil = 0
        for i in agents.indices {
            agents[i].partitionedUntil = 0
            if agents[i].down { queue.push(.agentRestart(i), at: nowMs + 1) }
        }
        queue.push(.plane(.schedulePass, epoch: epoch), at: nowMs + 1)
        for a in agents { request(.undrain(a.node), .drain(a.node, false)) }
        for s in services { request(.cancel(s, stored: nil), .cancel(s)) }
        queue.push(.quietRetry, at: nowMs + 2000)
    }
}

extension ChaosSimulator {
    mutating func quietRetry() {
        queue.push(.quietRetry, at: nowMs + 2000)
        guard let p = plane else { return }
        for a in agents where p.nodeStates()[a.node] != nil && store.nodes[a.node]?.drained == true {
            request(.undrain(a.node), .drain(a.node, false))
        }
        for s in services where p.heldJob(s).map({ !$0.state.isTerminal && $0.cancelRequested != true }) == true {
            request(.cancel(s, stored: nil), .cancel(s))
        }
        livenessReached = acknowledged.allSatisfy { p.heldJob($0)?.state.isTerminal == true }
    }

    /// The acknowledged jobs that have not ended, for a liveness violation.
    func unfinishedSummary() -> String {
        guard let p = plane else { return "schedd is down" }
        let open = acknowledged.sorted().compactMap { id -> String? in
            guard let j = p.heldJob(id), !j.state.isTerminal else { return nil }
            var agentSide = ""
            if let node = j.node, let i = agentIndex[node] {
                let t = agents[i].tasks[id]
                agentSide = " on \(node): agent \(t == nil ? "has no such task" : t!.exit == nil ? "runs it" : "ended it \(t!.exit!)")"
            }
            return "\(id) \(j.state.rawValue)\(j.reason.map { " (\($0))" } ?? "")\(agentSide)"
        }
        return "\(open.count) jobs: " + open.prefix(5).joined(separator: "; ")
    }
}
