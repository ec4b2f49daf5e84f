/// How schedd's queues use the packing policies: the node's `NodeState` and the task's
/// `ResourceRequest` are viewed as `ShareNode` / `ShareRequest` (1 PU = 1000 millicores) and
/// scored by `PackingScorer`, the code `schedctl simulate` replays traces with.
extension SchedulingPolicy {
    /// Score with the fleet's workload profile (used by `Placer` for every candidate node).
    /// Policies other than `fragmentationPacking` ignore the profile; `fragmentationPacking`
    /// scores nodes without GPUs by best fit.
    public func score(_ request: ResourceRequest, on node: NodeState, workload: WorkloadProfile) -> Int {
        // Nodes without GPUs have nothing to fragment: best fit packs them (CPU-only fleets).
        guard self == .fragmentationPacking, !node.topology.gpus.isEmpty else { return score(request, on: node) }
        return Self.packingScore(request, on: node, workload: TargetWorkload(workload, fallback: request))
    }

    /// `PackingScorer`'s product-policy score (0...100, FGD's integer scale) of `request` on `node`.
    /// CPU-only tasks on nodes without GPUs score 50 (nothing to fragment), as do nodes the
    /// request does not fit by counts (the filters rule those out before scoring).
    static func packingScore(_ request: ResourceRequest, on node: NodeState, workload: TargetWorkload) -> Int {
        let n = ShareNode(node), r = ShareRequest(request)
        guard n.gpuCount > 0, PackingScorer.fits(r, n) else { return 50 }
        let scorer = PackingScorer(policy: .fragmentationPacking, workload: workload)
        return max(0, min(100, Int(scorer.score(r, on: n, model: scorer.modelIndex(of: n)).score)))
    }
}

extension TargetWorkload {
    /// The target workload of a schedd `WorkloadProfile` (weights become frequencies); an empty
    /// profile defends the task being placed.
    public init(_ profile: WorkloadProfile, fallback: ResourceRequest) {
        let total = Double(max(1, profile.totalWeight))
        let shapes = profile.isEmpty ? [Shape(request: ShareRequest(fallback), frequency: 1)]
            : profile.shapes.map { Shape(request: ShareRequest($0.request), frequency: Double($0.weight) / total) }
        self.init(shapes: shapes)
    }
}
