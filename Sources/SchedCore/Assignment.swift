/// Memory reserved on one NUMA node.
public struct NUMAMemory: Sendable, Codable, Hashable {
    public var numa: Int
    public var bytes: Int64
    public init(numa: Int, bytes: Int64) {
        self.numa = numa
        self.bytes = bytes
    }
}

/// The exact resources one task gets on one node.
public struct Assignment: Sendable, Codable, Hashable {
    public var node: NodeID
    /// PUs by OS index on the node (for an emulated node, the node's own numbering).
    public var pus: CPUSet
    /// NUMA nodes the task's memory is bound to.
    public var numaNodes: NUMASet
    /// GPU indices (positions in the node's `topology.gpus`).
    public var gpus: [Int]
    /// Memory reserved per NUMA node.
    public var memory: [NUMAMemory]
    /// Share of each GPU in thousandths; nil means whole GPUs (1000).
    public var gpuMilli: Int?

    public init(node: NodeID, pus: CPUSet, numaNodes: NUMASet, gpus: [Int] = [], memory: [NUMAMemory] = [], gpuMilli: Int? = nil) {
        self.node = node
        self.pus = pus
        self.numaNodes = numaNodes
        self.gpus = gpus
        self.memory = memory
        self.gpuMilli = gpuMilli
    }
    /// Thousandths of a GPU held on each GPU in `gpus`.
    public var milliPerGPU: Int { gpuMilli ?? 1000 }
    public var memoryBytes: Int64 { memory.reduce(0) { $0 + $1.bytes } }
}
