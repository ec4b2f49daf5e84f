/// The outcome of one placement attempt.
public enum PlacementDecision: Sendable, Hashable {
    case placed(Assignment, score: Int, PlacementExplanation)
    case unplaceable(PlacementExplanation)

    public var explanation: PlacementExplanation {
        switch self {
        case .placed(_, _, let e), .unplaceable(let e): e
        }
    }
}

/// The scheduling core: filter → score → select, then pick PUs, NUMA nodes and GPUs on the winner.
///
/// Pure and deterministic: the same snapshot and request always give the same decision.
/// Ties on score go to the node whose id sorts first.
public struct Placer: Sendable {
    public var policy: SchedulingPolicy
    /// The workload the fleet typically receives (used by the fragmentation-aware policy).
    public var workload: WorkloadProfile
    /// How many feasible nodes of each pool the policy ranks before choosing; nil ranks every
    /// feasible node (exhaustive, as a simulator reproducing a paper needs). Like
    /// kube-scheduler's `percentageOfNodesToScore`, but the nodes come from the capacity index
    /// tightest first (loosest first for spreading policies), not in fleet order.
    public var candidateLimit: Int?
    /// The limit schedd uses.
    public static let defaultCandidateLimit = 8
    /// With a limit, a pool's walk also stops after `walkBudget × limit` nodes once one candidate
    /// is found (nodes tight in the walked dimension are often short in another).
    public static let walkBudget = 8

    public init(policy: SchedulingPolicy = .bestFit, workload: WorkloadProfile = WorkloadProfile(),
                candidateLimit: Int? = Placer.defaultCandidateLimit) {
        self.policy = policy
        self.workload = workload
        self.candidateLimit = candidateLimit
    }

    /// A feasible node: its position, preference tier, score and (fragmentation-aware) pick.
    struct Candidate {
        var node: Int
        var tier: Int
        var score: Int
        var assignment: Assignment?
    }

    /// Places one task of `request` in `snapshot`.
    ///
    /// Candidates come from the snapshot's capacity index: pools whose kind cannot match are ruled
    /// out whole; in each other pool, the dimension with the fewest nodes large enough is walked
    /// in the policy's order and the filters run on those nodes only, until `candidateLimit`
    /// feasible nodes are found. Pools of the preferred tier go first; when they give a feasible
    /// node the others are not looked at. The policy ranks the candidates (tier, score, node id) and
    /// the in-node pick (PUs, NUMA nodes, GPUs) runs on the best, then the next if the pick fails.
    /// The fragmentation-aware policy needs the pick to score, so it picks on every candidate.
    /// - Complexity: O(pools × buckets + nodes walked); nodes walked is about `candidateLimit`
    ///   per pool when the request fits, and every node large enough in the walked dimension when
    ///   it does not.
    public func place(_ request: ResourceRequest, in snapshot: ClusterSnapshot) -> PlacementDecision {
        let decision = place(request, in: snapshot, limit: candidateLimit)
        // Every limited candidate failed its in-node pick: look at every node before giving up.
        if case .unplaceable(let e) = decision, candidateLimit != nil, (e.nodesNotExamined ?? 0) > 0 {
            return place(request, in: snapshot, limit: nil)
        }
        return decision
    }

    func place(_ request: ResourceRequest, in snapshot: ClusterSnapshot, limit: Int?) -> PlacementDecision {
        // Nodes are read through the buffer so that no NodeState is copied in the walk.
        snapshot.nodes.withUnsafeBufferPointer { decide(request, in: snapshot, nodes: $0, limit: limit) }
    }

    /// One decision in four phases, like kube-scheduler's framework: `CandidateSearch` finds
    /// candidates (pools ruled out whole, then the capacity index walked, the filters run on the
    /// nodes walked and the scorer on those that pass); `rank` orders them; `select` runs the
    /// in-node pick on the best until one succeeds; `explain` builds the decision's explanation.
    private func decide(_ request: ResourceRequest, in snapshot: ClusterSnapshot, nodes: UnsafeBufferPointer<NodeState>,
                        limit: Int?) -> PlacementDecision {
        var search = CandidateSearch(placer: self, request: request, index: snapshot.index, nodes: nodes, limit: limit)
        search.run()
        Self.rank(&search.candidates)
        let chosen = select(&search)
        return explain(search, chosen: chosen)
    }

    /// How many nodes of a dimension `probe` looks at.
    static let probeLength = 16

    /// Whether one of the first `probeLength` nodes in walk order reaches `request` in every
    /// dimension the index keeps (read from the bucket entries; no node state is touched).
    static func probe(_ buckets: CapacityBuckets, from threshold: Int, ascending: Bool, _ request: ResourceRequest) -> Bool {
        var seen = 0
        var key = ascending ? threshold : buckets.maxKey
        while key >= threshold && key <= buckets.maxKey && seen < probeLength {
            for entry in buckets.lists[key] {
                if CapacityIndex.reaches(entry.keys, request) { return true }
                seen += 1
                if seen >= probeLength { return false }
            }
            key += ascending ? 1 : -1
        }
        return false
    }

    /// Runs the filters on one node in order, cheapest first; on success returns the in-node pick.
    public func check(_ request: ResourceRequest, on node: NodeState) -> Result<Assignment, RejectionReason> {
        if let r = filter(request, on: node) { return .failure(r) }
        guard let a = CPUAllocator.pick(request, on: node) else { return .failure(.noTopologyFit) }
        return .success(a)
    }

    /// The counting filters, in order, cheapest first: the first reason that rules the node out, or nil.
    public func filter(_ request: ResourceRequest, on node: NodeState) -> RejectionReason? {
        filter(Prepared(request), on: node)
    }

    /// What the filters need from a request, computed once per decision (Kubernetes' PreFilter).
    struct Prepared {
        let request: ResourceRequest
        let arch: String?
        let model: [UInt8]?
        init(_ r: ResourceRequest) {
            request = r
            arch = r.arch.map(ResourceRequest.canonicalArch)
            model = r.gpuModel.flatMap { $0.isEmpty ? nil : Array($0.lowercased().utf8) }
        }
    }

    @inline(__always)
    func filter(_ p: Prepared, on node: NodeState) -> RejectionReason? {
        let request = p.request
        if !node.schedulable { return node.unschedulableReason }
        if let arch = p.arch, arch != node.canonicalArch { return .wrongArch }
        if !request.labels.isEmpty, !request.labelsMatch(node.labels) { return .labelMismatch }
        if request.gpus > 0, p.model != nil, !node.hasGPUModel(p.model) { return .noGPUModel }
        if node.freePUCount < request.cpus { return .tooFewCPUs }
        if node.freeMemoryBytes < request.memoryBytes { return .tooLittleMemory }
        if request.gpus > 0, node.gpuCounts(request, wantLowercased: p.model).fitting < request.gpus { return .tooFewGPUs }
        return nil
    }

    /// Preference tier, ranked before the score: a task that needs no GPU prefers nodes without
    /// GPUs (tier 1) over GPU nodes (tier 0), so GPU nodes stay free for GPU work while CPU nodes
    /// can take it. A task that needs GPUs only sees GPU nodes, all in tier 1.
    static func tier(_ request: ResourceRequest, _ node: NodeState) -> Int {
        tier(request, hasGPUs: !node.topology.gpus.isEmpty)
    }
    static func tier(_ request: ResourceRequest, hasGPUs: Bool) -> Int {
        request.gpus == 0 && hasGPUs ? 0 : 1
    }

    /// GPUs that could take the request, and GPUs of the requested model (no allocation).
    static func gpuNumbers(_ request: ResourceRequest, _ node: NodeState) -> (Int64, Int64) {
        let c = node.gpuCounts(request, wantLowercased: request.gpuModel.map { Array($0.lowercased().utf8) })
        return (Int64(c.fitting), Int64(c.ofModel))
    }

    /// (free, capacity) of the dimension a reason refers to, for the explanation's numbers.
    static func numbers(for reason: RejectionReason, request: ResourceRequest, node: NodeState) -> (Int64, Int64) {
        switch reason.dimension {
        case .cpus: (Int64(node.freePUCount), Int64(node.puCount))
        case .memory: (node.freeMemoryBytes, node.cpuMemoryBytes)
        case .gpus:
            gpuNumbers(request, node)
        case nil: (0, 0)
        }
    }
}

