/// One node as the core sees it: topology, what is in use, and whether it takes new work.
public struct NodeState: Sendable, Hashable {
    public var id: NodeID
    public var topology: NodeTopology { didSet { cacheTopologyTotals() } }
    /// Every PU of the node (cached from the topology: the filters read it on every decision).
    public private(set) var allPUs = CPUSet()
    /// Number of PUs (cached).
    public private(set) var puCount = 0
    /// Memory of the CPU-bearing NUMA nodes (cached).
    public private(set) var cpuMemoryBytes: Int64 = 0
    /// The architecture in canonical spelling (cached).
    public private(set) var canonicalArch = ""
    /// Each GPU's model, lowercased, as UTF-8 bytes (cached: model matching is a byte search).
    private(set) var gpuModelsLowercased: [[UInt8]] = []
    /// The lowercased model when every GPU has the same one (one match per node instead of per GPU).
    private(set) var uniformGPUModel: [UInt8]?
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

    public init(id: NodeID, topology: NodeTopology, schedulable: Bool = true,
                unschedulableReason: RejectionReason = .notReady, labels: [String: String] = [:]) {
        self.id = id
        self.topology = topology
        self.schedulable = schedulable
        self.unschedulableReason = unschedulableReason
        self.usedPUs = CPUSet()
        self.usedGPUs = IndexSet64()
        self.gpuMilliUsed = Array(repeating: 0, count: topology.gpus.count)
        self.usedMemory = Array(repeating: 0, count: topology.numaNodes.count)
        self.labels = labels
        cacheTopologyTotals()
    }

    private mutating func cacheTopologyTotals() {
        allPUs = topology.allPUs
        puCount = allPUs.count
        cpuMemoryBytes = topology.cpuMemoryBytes
        canonicalArch = ResourceRequest.canonicalArch(topology.arch)
        gpuModelsLowercased = topology.gpus.map { Array($0.model.lowercased().utf8) }
        let distinct = Set(gpuModelsLowercased)
        uniformGPUModel = distinct.count == 1 ? distinct.first : nil
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
        for i in usedMemory.indices where i < topology.numaNodes.count && !topology.numaNodes[i].cpus.isEmpty { total += usedMemory[i] }
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
        for m in a.memory { if let i = topology.numaPosition(ofOS: m.numa) { usedMemory[i] += m.bytes } }
    }
    /// Returns an assignment's resources.
    public mutating func release(_ a: Assignment) {
        usedPUs = usedPUs.subtracting(a.pus)
        for g in a.gpus where g >= 0 && g < gpuMilliUsed.count {
            gpuMilliUsed[g] = max(0, gpuMilliUsed[g] - a.milliPerGPU)
            if gpuMilliUsed[g] == 0 { usedGPUs.remove(g) }
        }
        for m in a.memory { if let i = topology.numaPosition(ofOS: m.numa) { usedMemory[i] = max(0, usedMemory[i] - m.bytes) } }
    }
    /// True when none of the assignment's PUs or GPUs is already in use and the memory fits.
    public func canApply(_ a: Assignment) -> Bool {
        guard a.pus.isDisjoint(with: usedPUs), a.pus.isSubset(of: allPUs) else { return false }
        let milli = a.milliPerGPU
        guard milli >= 1, milli <= 1000, Set(a.gpus).count == a.gpus.count else { return false }
        for g in a.gpus where g < 0 || g >= topology.gpus.count || gpuMilliUsed[g] + milli > 1000 { return false }
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
    public init(nodes: [NodeState]) {
        // Sorting is skipped when the caller already keeps its nodes in id order.
        var sorted = true
        for i in nodes.indices.dropFirst() where !(nodes[i - 1].id < nodes[i].id) { sorted = false; break }
        self.nodes = sorted ? nodes : nodes.sorted { $0.id < $1.id }
    }
}
