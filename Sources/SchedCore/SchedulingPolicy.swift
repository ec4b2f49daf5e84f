/// How feasible nodes are ranked. The walking skeleton ships best fit; more strategies come later.
public enum SchedulingPolicy: String, Sendable, Codable, Hashable, CaseIterable {
    /// Prefer the node left fullest after placement (packs work, keeps whole nodes free).
    case bestFit = "best-fit"

    /// Integer score in 0...100 for placing `request` on `node`; higher is better.
    ///
    /// Best fit: the mean, over the node's resource dimensions (CPUs, memory when the node has
    /// any, GPUs when it has any), of the percentage in use after placement. A CPU-only task on a
    /// GPU node keeps the GPU dimension at its current use, which lowers its score; on top of that
    /// the placer ranks nodes without GPUs first for such tasks (see `Placer.tier`).
    /// Example: 16 PUs with 8 used, 2 of 4 GPUs used, request 4 CPUs and 0 GPUs, memory unused
    /// by everyone and not requested: (75 + 0 + 50) / 3 = 41.
    public func score(_ request: ResourceRequest, on node: NodeState) -> Int {
        switch self {
        case .bestFit:
            var sum = 0, dims = 0
            let pus = node.topology.puCount
            if pus > 0 {
                sum += (node.usedPUs.count + request.cpus) * 100 / pus
                dims += 1
            }
            let mem = node.topology.cpuMemoryBytes
            if mem > 0 {
                let used = node.usedMemory.enumerated().reduce(Int64(0)) { acc, e in
                    node.topology.numaNodes[e.offset].cpus.isEmpty ? acc : acc + e.element
                }
                sum += Int(min(100, (used + request.memoryBytes) / max(1, mem / 100)))
                dims += 1
            }
            let gpus = node.topology.gpus.count
            if gpus > 0 {
                sum += (node.usedGPUs.count + request.gpus) * 100 / gpus
                dims += 1
            }
            return dims == 0 ? 0 : min(100, sum / dims)
        }
    }
}
