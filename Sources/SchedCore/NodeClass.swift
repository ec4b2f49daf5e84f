/// What the core derives from a node's topology once, shared by every node of the same kind.
///
/// Identical trays or instances register identical topologies (apart from GPU serial numbers and
/// bus ids); `NodeClassRegistry` gives them one `NodeClass`, so these totals, the GPU model bytes
/// and the core grouping that the in-node pick walks exist once per kind, not once per node.
public final class NodeClass: Sendable {
    /// Every PU of the node.
    public let allPUs: CPUSet
    /// Number of PUs.
    public let puCount: Int
    /// Memory of the CPU-bearing NUMA nodes.
    public let cpuMemoryBytes: Int64
    /// The architecture in canonical spelling.
    public let canonicalArch: String
    /// Each GPU's model, lowercased, as UTF-8 bytes (model matching is a byte search).
    let gpuModelsLowercased: [[UInt8]]
    /// The lowercased model when every GPU has the same one (one match per node instead of per GPU).
    let uniformGPUModel: [UInt8]?
    /// Distinct GPU models, lowercased, sorted (the capacity index pools nodes by them).
    let distinctGPUModels: [[UInt8]]
    /// Positions in `numaNodes` of the NUMA nodes that have CPUs.
    let cpuNUMAPositions: [Int]
    /// NUMA position by OS index (-1 where no such node).
    let numaPositionByOS: [Int]
    /// Per NUMA position: its cores (positions in `cores`) grouped by L3, groups in order of first core.
    let coreGroups: [[(l3: Int, cores: [Int])]]

    public init(_ topology: NodeTopology) {
        allPUs = topology.allPUs
        puCount = allPUs.count
        cpuMemoryBytes = topology.cpuMemoryBytes
        canonicalArch = ResourceRequest.canonicalArch(topology.arch)
        gpuModelsLowercased = topology.gpus.map { Array($0.model.lowercased().utf8) }
        let distinct = Set(gpuModelsLowercased)
        uniformGPUModel = distinct.count == 1 ? distinct.first : nil
        distinctGPUModels = distinct.sorted { $0.lexicographicallyPrecedes($1) }
        cpuNUMAPositions = topology.numaNodes.indices.filter { !topology.numaNodes[$0].cpus.isEmpty }
        var byOS = [Int](repeating: -1, count: (topology.numaNodes.map(\.id).max() ?? -1) + 1)
        for (pos, n) in topology.numaNodes.enumerated() where n.id >= 0 { byOS[n.id] = pos }
        numaPositionByOS = byOS
        coreGroups = topology.numaNodes.map { numa in
            var groups: [(l3: Int, cores: [Int])] = []
            for (c, core) in topology.cores.enumerated() where core.numa == numa.id {
                if let k = groups.firstIndex(where: { $0.l3 == core.l3 }) { groups[k].cores.append(c) } else { groups.append((core.l3, [c])) }
            }
            return groups
        }
    }

    /// The position of a NUMA node in `numaNodes`, by OS index.
    func numaPosition(ofOS id: Int) -> Int? {
        id >= 0 && id < numaPositionByOS.count && numaPositionByOS[id] >= 0 ? numaPositionByOS[id] : nil
    }
}

/// Gives nodes of the same kind one shared `NodeClass` and one shared copy of their core and
/// NUMA arrays, so a fleet of identical nodes costs little memory per node.
///
/// Two topologies are of the same kind when they are equal after GPU UUIDs and PCI bus ids are
/// blanked. schedd keeps one registry; `sched-bench` builds its fleet through one too.
public struct NodeClassRegistry: Sendable {
    private var classes: [NodeTopology: (NodeClass, NodeTopology)] = [:]

    public init() {}

    /// Number of distinct kinds seen.
    public var count: Int { classes.count }

    /// A node of `topology`, sharing class and arrays with earlier nodes of the same kind.
    public mutating func node(id: NodeID, topology: NodeTopology, schedulable: Bool = true,
                              unschedulableReason: RejectionReason = .notReady, labels: [String: String] = [:]) -> NodeState {
        var kind = topology
        for g in kind.gpus.indices {
            kind.gpus[g].uuid = nil
            kind.gpus[g].pciBusID = nil
        }
        var shared = topology
        if let (c, canonical) = classes[kind] {
            shared.cores = canonical.cores
            shared.numaNodes = canonical.numaNodes
            return NodeState(id: id, topology: shared, nodeClass: c, schedulable: schedulable,
                             unschedulableReason: unschedulableReason, labels: labels)
        }
        let c = NodeClass(topology)
        classes[kind] = (c, topology)
        return NodeState(id: id, topology: topology, nodeClass: c, schedulable: schedulable,
                         unschedulableReason: unschedulableReason, labels: labels)
    }
}
