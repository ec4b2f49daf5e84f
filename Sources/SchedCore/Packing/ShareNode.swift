/// A node as the GPU-sharing packing policies see it: CPU in millicores, memory in MiB, and the
/// free share of each GPU in thousandths (1000 = a whole free GPU).
///
/// The FGD paper's policies (Weng et al., USENIX ATC '23) need fractional CPUs, which `NodeState`
/// counts in whole PUs; `init(_:)` derives this view from a `NodeState` (1 PU = 1000 millicores)
/// so schedd and `schedctl simulate` score with the same code (`PackingPolicy`).
public struct ShareNode: Sendable, Hashable {
    /// The GPU model of every GPU on the node ("" for none).
    public var model: String { didSet { modelKey = model.lowercased() } }
    /// `model` lowercased (requests match against it on every decision).
    public private(set) var modelKey: String
    public var cpuMilliCapacity: Int
    public var cpuMilliFree: Int
    public var memoryMiBCapacity: Int
    public var memoryMiBFree: Int
    /// Free thousandths of each GPU, by GPU index.
    public var gpuFree: [Int]
    /// GPU tasks on the node by kind (index 0: GPU-sharing tasks; k: tasks of k whole GPUs),
    /// for the GPU-clustering policy.
    public var tasksByKind: [Int]

    public init(model: String, cpuMilli: Int, memoryMiB: Int, gpus: Int) {
        self.model = model
        modelKey = model.lowercased()
        cpuMilliCapacity = cpuMilli
        cpuMilliFree = cpuMilli
        memoryMiBCapacity = memoryMiB
        memoryMiBFree = memoryMiB
        gpuFree = Array(repeating: 1000, count: gpus)
        tasksByKind = Array(repeating: 0, count: 9)
    }

    /// The view of a `NodeState`: PUs × 1000 millicores, CPU-side memory in MiB, the first GPU's model.
    public init(_ node: NodeState) {
        self.init(model: node.topology.gpus.first?.model ?? "", cpuMilli: node.puCount * 1000,
                  memoryMiB: Int(node.cpuMemoryBytes >> 20), gpus: node.topology.gpus.count)
        cpuMilliFree = node.freePUCount * 1000
        memoryMiBFree = Int(node.freeMemoryBytes >> 20)
        gpuFree = node.gpuMilliUsed.map { max(0, 1000 - $0) }
    }

    public var gpuCount: Int { gpuFree.count }
    /// Free thousandths of GPU over the whole node.
    public var gpuFreeTotal: Int { gpuFree.reduce(0, +) }
    /// GPUs nobody holds any part of.
    public var wholeFreeGPUs: Int { gpuFree.reduce(0) { $1 == 1000 ? $0 + 1 : $0 } }

    /// Takes `pod` onto the GPUs `gpus` (each loses `pod.gpuMilli`).
    public mutating func apply(_ pod: ShareRequest, gpus: [Int]) {
        cpuMilliFree -= pod.cpuMilli
        memoryMiBFree -= pod.memoryMiB
        for g in gpus { gpuFree[g] -= pod.gpuMilli }
        if let k = pod.kind { tasksByKind[k] += 1 }
    }

    /// Gives back what `apply` took.
    public mutating func release(_ pod: ShareRequest, gpus: [Int]) {
        cpuMilliFree += pod.cpuMilli
        memoryMiBFree += pod.memoryMiB
        for g in gpus { gpuFree[g] += pod.gpuMilli }
        if let k = pod.kind { tasksByKind[k] -= 1 }
    }
}
