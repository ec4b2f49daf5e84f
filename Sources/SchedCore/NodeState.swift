/// One node as the core sees it: topology, what is in use, and whether it takes new work.
public struct NodeState: Sendable, Hashable {
    public var id: NodeID
    public var topology: NodeTopology
    /// False when the node is down, not yet reconciled, or draining.
    public var schedulable: Bool
    /// Why the node is not schedulable, for explanations (`.notReady` or `.draining`).
    public var unschedulableReason: RejectionReason
    /// PUs held by running tasks.
    public var usedPUs: CPUSet
    /// GPU indices held by running tasks.
    public var usedGPUs: IndexSet64
    /// Memory held by running tasks, per position in `topology.numaNodes`.
    public var usedMemory: [Int64]

    public init(id: NodeID, topology: NodeTopology, schedulable: Bool = true,
                unschedulableReason: RejectionReason = .notReady) {
        self.id = id
        self.topology = topology
        self.schedulable = schedulable
        self.unschedulableReason = unschedulableReason
        self.usedPUs = CPUSet()
        self.usedGPUs = IndexSet64()
        self.usedMemory = Array(repeating: 0, count: topology.numaNodes.count)
    }

    public var freePUs: CPUSet { topology.allPUs.subtracting(usedPUs) }
    public var freePUCount: Int { topology.puCount - usedPUs.count }
    public var freeMemoryBytes: Int64 {
        var total: Int64 = 0
        for (i, n) in topology.numaNodes.enumerated() where !n.cpus.isEmpty { total += max(0, n.memoryBytes - usedMemory[i]) }
        return total
    }
    public func freeMemory(numaPosition i: Int) -> Int64 { max(0, topology.numaNodes[i].memoryBytes - usedMemory[i]) }
    public var freeGPUCount: Int { topology.gpus.count - usedGPUs.count }

    /// Marks an assignment's resources as used.
    public mutating func apply(_ a: Assignment) {
        usedPUs.formUnion(a.pus)
        for g in a.gpus { usedGPUs.insert(g) }
        for m in a.memory { if let i = topology.numaPosition(ofOS: m.numa) { usedMemory[i] += m.bytes } }
    }
    /// Returns an assignment's resources.
    public mutating func release(_ a: Assignment) {
        usedPUs = usedPUs.subtracting(a.pus)
        for g in a.gpus { usedGPUs.remove(g) }
        for m in a.memory { if let i = topology.numaPosition(ofOS: m.numa) { usedMemory[i] = max(0, usedMemory[i] - m.bytes) } }
    }
    /// True when none of the assignment's PUs or GPUs is already in use and the memory fits.
    public func canApply(_ a: Assignment) -> Bool {
        guard a.pus.isDisjoint(with: usedPUs), a.pus.isSubset(of: topology.allPUs) else { return false }
        for g in a.gpus where g < 0 || g >= topology.gpus.count || usedGPUs.contains(g) { return false }
        for m in a.memory {
            guard m.bytes >= 0, let i = topology.numaPosition(ofOS: m.numa),
                  usedMemory[i] + m.bytes <= topology.numaNodes[i].memoryBytes else { return false }
        }
        return true
    }
}

/// An immutable view of the fleet handed to the core for one decision; nodes sorted by id.
public struct ClusterSnapshot: Sendable {
    public var nodes: [NodeState]
    public init(nodes: [NodeState]) { self.nodes = nodes.sorted { $0.id < $1.id } }
}
