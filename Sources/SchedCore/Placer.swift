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

    public init(policy: SchedulingPolicy = .bestFit, workload: WorkloadProfile = WorkloadProfile()) {
        self.policy = policy
        self.workload = workload
    }

    /// Places one task of `request` in `snapshot`.
    ///
    /// The filters run on every node; the policy scores every node that passes them. The in-node
    /// pick (PUs, NUMA nodes, GPUs) then runs only on the best-ranked nodes, in rank order, until
    /// three have a fit (the first is the winner; the three are the explanation's candidates).
    /// A node whose pick fails is counted under `noTopologyFit`. The fragmentation-aware policy
    /// needs the pick to score, so it picks on every node that passes the filters.
    /// - Complexity: O(nodes × GPUs) for the filters and scores, plus at most a few in-node picks
    ///   (every feasible node for fragmentation-aware).
    public func place(_ request: ResourceRequest, in snapshot: ClusterSnapshot) -> PlacementDecision {
        var counts = Array(repeating: 0, count: RejectionReason.allCases.count)
        var bestFree = Array(repeating: Int64(-1), count: RejectionReason.allCases.count)
        var bestCap = Array(repeating: Int64(-1), count: RejectionReason.allCases.count)
        func reject(_ r: RejectionReason, _ node: NodeState) {
            let k = RejectionReason.allCases.firstIndex(of: r)!
            counts[k] += 1
            let (free, cap) = Self.numbers(for: r, request: request, node: node)
            if free > bestFree[k] { bestFree[k] = free }
            if cap > bestCap[k] { bestCap[k] = cap }
        }
        let scoreNeedsPick = policy == .fragmentationAware
        var candidates: [(node: Int, tier: Int, score: Int, assignment: Assignment?)] = []
        let prepared = Prepared(request)
        for (i, node) in snapshot.nodes.enumerated() {
            if let r = filter(prepared, on: node) {
                reject(r, node)
            } else if scoreNeedsPick {
                guard let a = CPUAllocator.pick(request, on: node) else {
                    reject(.noTopologyFit, node)
                    continue
                }
                candidates.append((i, Self.tier(request, node), policy.score(request, on: node, assignment: a, workload: workload), a))
            } else {
                candidates.append((i, Self.tier(request, node), policy.score(request, on: node, workload: workload), nil))
            }
        }
        // Preferred tier first, then highest score; ties broken by snapshot order (node id).
        // Only the first few are needed unless picks fail, so sort lazily: best three first.
        func better(_ a: (node: Int, tier: Int, score: Int, assignment: Assignment?), _ b: (node: Int, tier: Int, score: Int, assignment: Assignment?)) -> Bool {
            (b.tier, b.score, a.node) < (a.tier, a.score, b.node)
        }
        if candidates.count > 16 {
            // Move the best 4 to the front in O(n), then sort the rest only if those all fail.
            for k in 0..<4 {
                var best = k
                for i in (k + 1)..<candidates.count where better(candidates[i], candidates[best]) { best = i }
                candidates.swapAt(k, best)
            }
            candidates[4...].sort(by: better)
        } else {
            candidates.sort(by: better)
        }
        var ranked: [(node: Int, score: Int, assignment: Assignment)] = []
        var topologyMisses = 0
        for c in candidates where ranked.count < 3 {
            if let a = c.assignment ?? CPUAllocator.pick(request, on: snapshot.nodes[c.node]) {
                ranked.append((c.node, c.score, a))
            } else {
                reject(.noTopologyFit, snapshot.nodes[c.node])
                topologyMisses += 1
            }
        }

        var rejections: [RejectionCount] = []
        for (k, r) in RejectionReason.allCases.enumerated() where counts[k] > 0 {
            let req: Int64? = switch r.dimension {
            case .cpus: Int64(request.cpus)
            case .memory: request.memoryBytes
            case .gpus: Int64(request.gpus)
            case nil: nil
            }
            rejections.append(RejectionCount(reason: r, nodes: counts[k], requested: req,
                                             bestFree: req == nil ? nil : bestFree[k], bestCapacity: req == nil ? nil : bestCap[k]))
        }
        let top = ranked.map { CandidateScore(node: snapshot.nodes[$0.node].id, score: $0.score) }
        var explanation = PlacementExplanation(policy: policy.rawValue, nodesEvaluated: snapshot.nodes.count,
                                               nodesFeasible: candidates.count - topologyMisses, rejections: rejections,
                                               topCandidates: top)
        if let best = ranked.first {
            let node = snapshot.nodes[best.node]
            let u = SchedulingPolicy.utilisationAfter(request, node)
            explanation.chosen = ScoreBreakdown(tier: Self.tier(request, node), cpuPercentAfter: u.cpu,
                                                memoryPercentAfter: u.memory, gpuPercentAfter: u.gpu)
        }
        guard let best = ranked.first else { return .unplaceable(explanation) }
        return .placed(best.assignment, score: best.score, explanation)
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
        request.gpus == 0 && !node.topology.gpus.isEmpty ? 0 : 1
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
