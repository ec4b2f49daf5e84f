/// One node as the core sees it: topology, what is in use, and whether it takes new work.
public struct NodeState: Sendable, Hashable {
    public var id: NodeID
    /// Changing it rebuilds the class and resizes the per-GPU and per-NUMA usage to the new shape.
    public var topology: NodeTopology {
        didSet {
            nodeClass = NodeClass(topology)
            gpuMilliUsed = (0..<topology.gpus.count).map { $0 < gpuMilliUsed.count ? gpuMilliUsed[$0] : 0 }
            usedMemory = (0..<topology.numaNodes.count).map { $0 < usedMemory.count ? usedMemory[$0] : 0 }
        }
    }
    /// What the core derives from the topology, shared with nodes of the same kind.
    public private(set) var nodeClass: NodeClass
    /// Every PU of the node.
    public var allPUs: CPUSet { nodeClass.allPUs }
    /// Number of PUs.
    public var puCount: Int { nodeClass.puCount }
    /// Memory of the CPU-bearing NUMA nodes.
    public var cpuMemoryBytes: Int64 { nodeClass.cpuMemoryBytes }
    /// The architecture in canonical spelling.
    public var canonicalArch: String { nodeClass.canonicalArch }
    var gpuModelsLowercased: [[UInt8]] { nodeClass.gpuModelsLowercased }
    var uniformGPUModel: [UInt8]? { nodeClass.uniformGPUModel }
    /// False when the node is down, not yet reconciled, or draining.
    public var schedulable: Bool
    /// Why the node is not schedulable, for explanations (`.notReady` or `.draining`).
    public var unschedulableReason: RejectionReason
    /// PUs held by running tasks.
    public var usedPUs: CPUSet { didSet { usedPUCount = usedPUs.count } }
    /// GPU indices held (wholly or in part) by running tasks.
    public var usedGPUs: IndexSet64
    /// Thousandths of each GPU held by running tasks (1000 = the whole GPU), by GPU index.
    public var gpuMilliUsed: [Int]
    /// Memory held by running tasks, per position in `topology.numaNodes`.
    public var usedMemory: [Int64] { didSet { sumCPUMemory() } }
    /// Node labels (`nvlink.domain`, `rack`, `zone`, ...), matched by `ResourceRequest.labels`.
    public var labels: [String: String]

    /// A node with its own `NodeClass`; `NodeClassRegistry.node` shares one between nodes of a kind.
    public init(id: NodeID, topology: NodeTopology, schedulable: Bool = true,
                unschedulableReason: RejectionReason = .notReady, labels: [String: String] = [:]) {
        self.init(id: id, topology: topology, nodeClass: NodeClass(topology), schedulable: schedulable,
                  unschedulableReason: unschedulableReason, labels: labels)
    }

    init(id: NodeID, topology: NodeTopology, nodeClass: NodeClass, schedulable: Bool,
         unschedulableReason: RejectionReason, labels: [String: String]) {
        self.id = id
        self.topology = topology
        self.nodeClass = nodeClass
        self.schedulable = schedulable
        self.unschedulableReason = unschedulableReason
        self.usedPUs = CPUSet()
        self.usedGPUs = IndexSet64()
        self.gpuMilliUsed = Array(repeating: 0, count: topology.gpus.count)
        self.usedMemory = Array(repeating: 0, count: topology.numaNodes.count)
        self.labels = labels
    }

    /// Distinct GPU models, lowercased, sorted (the capacity index pools nodes by them).
    var distinctGPUModels: [[UInt8]] { nodeClass.distinctGPUModels }
    /// The largest free share of any one GPU, in thousandths (0 without GPUs).
    public var largestFreeShare: Int {
        var best = 0
        for used in gpuMilliUsed where 1000 - used > best { best = 1000 - used }
        return best
    }

    /// Whether GPU `g`'s model contains `wantLowercased` (nil accepts every model).
    func gpuModelMatches(_ g: Int, _ wantLowercased: [UInt8]?) -> Bool {
        guard let want = wantLowercased, !want.isEmpty else { return true }
        return Self.bytes(gpuModelsLowercased[g], contain: want)
    }

    /// Whether any GPU has a model containing `wantLowercased`.
    func hasGPUModel(_ wantLowercased: [UInt8]?) -> Bool {
        guard let want = wantLowercased, !want.isEmpty else { return !gpuModelsLowercased.isEmpty }
        if let u = uniformGPUModel { return Self.bytes(u, contain: want) }
        return gpuModelsLowercased.contains { Self.bytes($0, contain: want) }
    }

    /// Plain byte-substring search (model names are short; no Unicode segmentation needed).
    static func bytes(_ hay: [UInt8], contain needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        if needle.isEmpty { return true }
        var i = 0
        while i + needle.count <= hay.count {
            var j = 0
            while j < needle.count && hay[i + j] == needle[j] { j += 1 }
            if j == needle.count { return true }
            i += 1
        }
        return false
    }

    /// How many GPUs could take one GPU's worth of `r`: (fitting now, of the model at all).
    /// `wantLowercased` is `r.gpuModel` lowercased as UTF-8, computed once per decision by the caller.
    func gpuCounts(_ r: ResourceRequest, wantLowercased: [UInt8]?) -> (fitting: Int, ofModel: Int) {
        let noModel = wantLowercased?.isEmpty ?? true
        let uniform: Bool? = noModel ? true : uniformGPUModel.map { Self.bytes($0, contain: wantLowercased!) }
        var fitting = 0, ofModel = 0
        for g in gpuMilliUsed.indices where uniform ?? gpuModelMatches(g, wantLowercased) {
            ofModel += 1
            if r.sharesGPU ? gpuMilliUsed[g] + r.gpuMilli <= 1000 : gpuMilliUsed[g] == 0 { fitting += 1 }
        }
        return (fitting, ofModel)
    }

    public var freePUs: CPUSet { allPUs.subtracting(usedPUs) }
    public var freePUCount: Int { puCount - usedPUCount }
    /// `usedPUs.count`, kept up to date whenever `usedPUs` changes (the filters read it per node).
    public private(set) var usedPUCount = 0
    /// Memory held on CPU-bearing NUMA nodes, kept up to date whenever `usedMemory` changes.
    public private(set) var usedCPUMemory: Int64 = 0

    private mutating func sumCPUMemory() {
        var total: Int64 = 0
        for i in nodeClass.cpuNUMAPositions where i < usedMemory.count { total += usedMemory[i] }
        usedCPUMemory = total
    }
    public var freeMemoryBytes: Int64 { max(0, cpuMemoryBytes - usedCPUMemory) }

    public func freeMemory(numaPosition i: Int) -> Int64 { max(0, topology.numaNodes[i].memoryBytes - usedMemory[i]) }
    /// GPUs nobody holds any part of.
    public var freeGPUCount: Int { topology.gpus.count - usedGPUs.count }
    /// Thousandths of GPU `g` nobody holds.
    public func freeMilli(gpu g: Int) -> Int { 1000 - gpuMilliUsed[g] }
    /// Thousandths of GPU held on the whole node.
    public var gpuMilliUsedTotal: Int { gpuMilliUsed.reduce(0, +) }
    /// Whether GPU `g` can take one GPU's worth of `request` (a whole free GPU, or enough free share).
    public func gpuFits(_ g: Int, _ request: ResourceRequest) -> Bool {
        gpuModelMatches(g, request.gpuModel.map { Array($0.lowercased().utf8) })
            && (request.sharesGPU ? gpuMilliUsed[g] + request.gpuMilli <= 1000 : gpuMilliUsed[g] == 0)
    }

    /// Marks an assignment's resources as used.
    public mutating func apply(_ a: Assignment) {
        usedPUs.formUnion(a.pus)
        for g in a.gpus where g >= 0 && g < gpuMilliUsed.count {
            usedGPUs.insert(g)
            gpuMilliUsed[g] += a.milliPerGPU
        }
        for m in a.memory { if let i = nodeClass.numaPosition(ofOS: m.numa) { usedMemory[i] += m.bytes } }
    }
    /// Returns an assignment's resources.
    public mutating func release(_ a: Assignment) {
        usedPUs = usedPUs.subtracting(a.pus)
        for g in a.gpus where g >= 0 && g < gpuMilliUsed.count {
            gpuMilliUsed[g] = max(0, gpuMilliUsed[g] - a.milliPerGPU)
            if gpuMilliUsed[g] == 0 { usedGPUs.remove(g) }
        }
        for m in a.memory { if let i = nodeClass.numaPosition(ofOS: m.numa) { usedMemory[i] = max(0, usedMemory[i] - m.bytes) } }
    }
    /// True when none of the assignment's PUs or GPUs is already in use and the memory fits.
    public func canApply(_ a: Assignment) -> Bool {
        guard a.pus.isDisjoint(with: usedPUs), a.pus.isSubset(of: allPUs) else { return false }
        let milli = a.milliPerGPU
        guard milli >= 1, milli <= 1000, Set(a.gpus).count == a.gpus.count else { return false }
        for g in a.gpus where g < 0 || g >= topology.gpus.count || gpuMilliUsed[g] + milli > 1000 { return false }
        for m in a.memory {
            guard m.bytes >= 0, let i = nodeClass.numaPosition(ofOS: m.numa),
                  usedMemory[i] + m.bytes <= topology.numaNodes[i].memoryBytes else { return false }
        }
        return true
    }
}


extension NodeState {
    /// Equality ignores `nodeClass`: it is derived from the topology.
    public static func == (a: NodeState, b: NodeState) -> Bool {
        a.id == b.id && a.schedulable == b.schedulable && a.unschedulableReason == b.unschedulableReason
            && a.usedPUs == b.usedPUs && a.usedGPUs == b.usedGPUs && a.gpuMilliUsed == b.gpuMilliUsed
            && a.usedMemory == b.usedMemory && a.labels == b.labels && a.topology == b.topology
    }
    public func hash(into h: inout Hasher) {
        h.combine(id)
        h.combine(usedPUs)
        h.combine(gpuMilliUsed)
        h.combine(usedMemory)
    }
}
