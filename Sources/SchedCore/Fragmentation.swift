/// Fragmentation of a node's GPUs with respect to a workload (FGD, Weng et al., USENIX ATC '23).
///
/// For one task shape `m`, the fragmented GPU capacity of node `n` is the free GPU share (in
/// thousandths of a GPU) that `m` cannot use:
/// - all free share, when `m` cannot be placed on `n` at all (too few CPUs, too little memory,
///   too few GPUs of its model, wrong arch or labels);
/// - otherwise, for a task sharing a GPU (`gpuMilli` < 1000), the free share of every GPU whose
///   free share is below `m.gpuMilli`; for a whole-GPU task, the free share of every partly used GPU;
/// - for a CPU-only shape that fits, nothing.
/// The node's fragmentation is the popularity-weighted mean over the profile's shapes. A
/// placement's score is `50 - 50 × Δ / C`, clamped to 0...100, where Δ is the growth of the node's
/// fragmentation caused by the placement and C the node's GPU capacity (GPUs × 1000): no growth
/// scores 50, a placement that removes fragmentation scores above 50.
public enum Fragmentation {
    /// Fragmented GPU share (thousandths) of `node` for one shape.
    public static func fragmented(_ node: NodeState, for m: ResourceRequest) -> Int {
        var freeTotal = 0
        for g in node.topology.gpus.indices { freeTotal += node.freeMilli(gpu: g) }
        guard freeTotal > 0 else { return 0 }
        if !fits(m, node) { return freeTotal }
        guard m.gpus > 0 else { return 0 }
        var frag = 0
        for g in node.topology.gpus.indices {
            let free = node.freeMilli(gpu: g)
            let unusable = m.sharesGPU ? free < m.gpuMilli : free < 1000
            if unusable || !m.gpuModelMatches(node.topology.gpus[g].model) { frag += free }
        }
        return frag
    }

    /// Popularity-weighted fragmentation of `node` (thousandths of a GPU, scaled by total weight).
    public static func fragmented(_ node: NodeState, workload: WorkloadProfile) -> Int {
        workload.shapes.reduce(0) { $0 + $1.weight * fragmented(node, for: $1.request) }
    }

    /// The score of a placement (see the type's documentation).
    public static func score(_ request: ResourceRequest, node: NodeState, assignment: Assignment, workload: WorkloadProfile) -> Int {
        let profile = workload.isEmpty ? WorkloadProfile(shapes: [.init(request: request, weight: 1)]) : workload
        let capacity = node.topology.gpus.count * 1000
        guard capacity > 0 else { return 50 }
        var after = node
        after.apply(assignment)
        let delta = fragmented(after, workload: profile) - fragmented(node, workload: profile)
        let total = max(1, profile.totalWeight)
        // delta is weighted by total weight: Δ = delta / total.
        return max(0, min(100, 50 - 50 * delta / (total * capacity) ))
    }

    /// Whether shape `m` could be placed on `node` now, by counts (no topology pick).
    static func fits(_ m: ResourceRequest, _ node: NodeState) -> Bool {
        if let arch = m.arch, ResourceRequest.canonicalArch(arch) != node.canonicalArch { return false }
        if !m.labelsMatch(node.labels) { return false }
        if node.freePUCount < m.cpus || node.freeMemoryBytes < m.memoryBytes { return false }
        if m.gpus > 0 {
            var n = 0
            for g in node.topology.gpus.indices where node.gpuFits(g, m) { n += 1 }
            if n < m.gpus { return false }
        }
        return true
    }
}
