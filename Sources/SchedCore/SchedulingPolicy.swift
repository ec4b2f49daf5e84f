/// How feasible nodes are ranked. Chosen per queue (schedd `--queue NAME=POLICY`).
///
/// Every policy gives an integer score in 0...100, higher is better; the placer ranks by
/// preference tier first (`Placer.tier`), then score, then node id. Worked examples for each
/// policy are in docs/scheduling.md.
public enum SchedulingPolicy: String, Sendable, Codable, Hashable, CaseIterable {
    /// Mean utilisation after placement over all of the node's dimensions (CPUs, memory, GPUs):
    /// the node left fullest wins, whole nodes stay free. The default.
    case bestFit = "best-fit"
    /// Kubernetes' MostAllocated: mean utilisation after placement over the dimensions the task
    /// requests; packs work without regard to dimensions it does not use.
    case mostAllocated = "most-allocated"
    /// Kubernetes' LeastAllocated: 100 minus `mostAllocated`; spreads work over the fleet.
    case leastAllocated = "least-allocated"
    /// Tetris-style alignment: the dot product of the request and the node's free capacity, both
    /// as fractions of the node's capacity, divided by the request's size; prefers nodes whose
    /// free resources are shaped like the request.
    case dotProduct = "dot-product"
    /// Fragmentation gradient descent (FGD, USENIX ATC '23): the smallest growth of the GPU capacity
    /// that the typical workload (`WorkloadProfile`) could no longer use. CPU-only tasks on CPU
    /// nodes fall back to best fit.
    case fragmentationAware = "fragmentation-aware"
    /// The GPU-sharing packing policy measured in docs/simulation.md (`PackingPolicy
    /// .fragmentationPacking`, `default` in `schedctl simulate`): FGD's score on the node's free
    /// GPU shares, computed by the same code the simulator runs.
    case fragmentationPacking = "fgd-pack"

    /// Whether the policy favours the nodes with the least free capacity that still fits (so the
    /// capacity index is walked tightest first); spreading policies walk loosest first.
    public var prefersTightNodes: Bool {
        switch self {
        case .bestFit, .mostAllocated, .fragmentationAware, .fragmentationPacking: true
        case .leastAllocated, .dotProduct: false
        }
    }

    /// Accepts the canonical names and the aliases `pack`, `spread`, `fgd`.
    public init?(name: String) {
        switch name.lowercased() {
        case "pack": self = .mostAllocated
        case "spread": self = .leastAllocated
        case "fgd", "fragmentation": self = .fragmentationAware
        case "frag-pack", "fgd-packing": self = .fragmentationPacking
        case "bestfit", "best_fit": self = .bestFit
        default:
            guard let p = SchedulingPolicy(rawValue: name.lowercased()) else { return nil }
            self = p
        }
    }

    /// Score without an in-node assignment or workload profile (fragmentation-aware then scores
    /// as best fit). Kept for callers that rank nodes before picking PUs.
    @inline(__always)
    public func score(_ request: ResourceRequest, on node: NodeState) -> Int {
        switch self {
        case .bestFit, .fragmentationAware, .fragmentationPacking: Self.bestFit(request, node)
        case .mostAllocated: Self.mostAllocated(request, node)
        case .leastAllocated: 100 - Self.mostAllocated(request, node)
        case .dotProduct: Self.dotProduct(request, node)
        }
    }

    /// Score of placing `request` on `node` with the in-node pick `assignment`.
    public func score(_ request: ResourceRequest, on node: NodeState, assignment: Assignment, workload: WorkloadProfile) -> Int {
        guard self == .fragmentationAware, request.gpus > 0 || !node.topology.gpus.isEmpty else {
            return score(request, on: node)
        }
        return Fragmentation.score(request, node: node, assignment: assignment, workload: workload)
    }
}
