import SchedCore
import SchedProtocol

extension ControlPlane {
    mutating func listNodes(topology: Bool) -> [NodeInfo] {
        nodes.values.sorted { $0.stored.name < $1.stored.name }.map { info($0, topology: topology) }
    }

    mutating func info(_ n: NodeEntry, topology: Bool = false) -> NodeInfo {
        let t = n.stored.topology
        let running = jobs.values.filter { $0.state.isActive && $0.node == n.stored.name }.count
        let usedMem = n.state.usedMemory.reduce(0, +)
        return NodeInfo(name: n.stored.name, status: n.status, arch: t.arch, cpuModel: t.cpuModel, emulated: n.stored.emulated,
                        packages: t.packages, numaNodes: t.numaNodes.count, cores: t.cores.count, cpus: t.puCount,
                        cpusUsed: n.state.usedPUs.count, memoryBytes: t.cpuMemoryBytes, memoryUsedBytes: usedMem,
                        gpus: t.gpus.count, gpusUsed: n.state.usedGPUs.count,
                        gpuModels: Array(Set(t.gpus.map(\.model))).sorted(), nvlink: t.nvlinkBandwidth != nil,
                        runningJobs: running, drainReason: n.stored.drainReason,
                        lastHeartbeatMs: n.lastHeartbeatWallMs, freeMemory: n.freeMemory,
                        labels: n.stored.labels, topology: topology ? t : nil)
    }

    /// Counts for `schedctl status`.
    /// A tenant's principal sees its own jobs and tenant figures only; the fleet's nodes are common.
    mutating func status(for p: Principal = .clusterAdmin) -> SchedulerStatus {
        var nodeCounts: [String: Int] = [:]
        for n in nodes.values { nodeCounts[n.status.rawValue, default: 0] += 1 }
        var jobCounts: [String: Int] = [:]
        for j in jobs.values where p.sees(tenant: j.spec.tenantName) { jobCounts[j.state.rawValue, default: 0] += 1 }
        return SchedulerStatus(software: WireProtocol.software, protocolVersion: WireProtocol.version,
                               uptimeSeconds: (monoNow - startedMs) / 1000, policy: config.policy.rawValue,
                               stateDir: config.stateDir, nodes: nodeCounts, jobs: jobCounts, rejectedLines: rejectedLines,
                               queues: queues.mapValues(\.rawValue), tenants: tenantStatus().filter { p.sees(tenant: $0.key) },
                               limitsHit: limitsHit.isEmpty ? nil : limitsHit,
                               forbiddenAgentLines: forbiddenAgentLines == 0 ? nil : forbiddenAgentLines)
    }

    /// Stops new work from going to a node; running tasks finish.
    mutating func drain(_ name: NodeID, reason: String?) throws(ErrorReply) -> NodeInfo {
        try setDrain(name, drained: true, reason: reason ?? "drained by operator")
    }

    mutating func undrain(_ name: NodeID) throws(ErrorReply) -> NodeInfo {
        let i = try setDrain(name, drained: false, reason: nil)
        schedulePending()
        return i
    }

    private mutating func setDrain(_ name: NodeID, drained: Bool, reason: String?) throws(ErrorReply) -> NodeInfo {
        guard var n = nodes[name] else { throw ErrorReply(.notFound, "no node '\(name)'") }
        n.stored.drained = drained
        n.stored.drainReason = reason
        persist(n.stored)
        nodes[name] = n
        log(.info, drained ? "drain" : "undrain", ["node.id": "\(name)"])
        return info(n)
    }
}
