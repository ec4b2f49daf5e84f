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

    private func decide(_ request: ResourceRequest, in snapshot: ClusterSnapshot, nodes: UnsafeBufferPointer<NodeState>,
                        limit: Int?) -> PlacementDecision {
        let prepared = Prepared(request)
        let index = snapshot.index
        var tally = RejectionTally()
        for (k, n) in index.unschedulable.enumerated() where n > 0 { tally.add(k, count: n) }
        let scoreNeedsPick = policy == .fragmentationAware
        let ascending = policy.prefersTightNodes
        var candidates: [Candidate] = []
        candidates.reserveCapacity(2 * (limit ?? 8))
        var notExamined = 0
        for tier in [1, 0] {
            for pool in index.pools where pool.live > 0 && Self.tier(request, hasGPUs: pool.hasGPUs) == tier {
                if let arch = prepared.arch, arch != pool.key.arch {
                    tally.add(.wrongArch, count: pool.live)
                    continue
                }
                if request.gpus > 0, prepared.model != nil, !pool.hasModel(prepared.model) {
                    tally.add(.noGPUModel, count: pool.live, free: 0, capacity: 0)
                    continue
                }
                if request.gpus > 0, !pool.hasGPUs {
                    tally.add(.tooFewGPUs, count: pool.live, free: 0, capacity: 0)
                    continue
                }
                // A pool of the lower tier cannot win once the preferred tier has a candidate.
                if limit != nil, tier == 0, !candidates.isEmpty {
                    notExamined += pool.live
                    continue
                }
                // The dimension to walk: the one with the fewest nodes that reach the request,
                // unless its first nodes in walk order are all short in another dimension (a pool
                // that runs out of memory before PUs) and another dimension's are not.
                let options = pool.walkOptions(for: request)
                var (dimension, threshold, reaching) = options[0]
                if limit != nil, options.count > 1, options[0].reaching > Self.probeLength {
                    for o in options where Self.probe(pool.buckets(o.dimension), from: o.threshold, ascending: ascending, request) {
                        (dimension, threshold, reaching) = o
                        break
                    }
                }
                let buckets = pool.buckets(dimension)
                if reaching < pool.live {
                    let best = Int64(buckets.largestKey(below: threshold) ?? 0)
                    let n = pool.live - reaching
                    switch dimension {
                    case .pus: tally.add(.tooFewCPUs, count: n, free: best, capacity: Int64(pool.maxPUs))
                    case .memory: tally.add(.tooLittleMemory, count: n, free: best << 30, capacity: pool.maxMemory)
                    case .gpus: tally.add(.tooFewGPUs, count: n, free: best, capacity: Int64(pool.maxGPUs))
                    case .share: tally.add(.tooFewGPUs, count: n, free: 0, capacity: Int64(pool.maxGPUs))
                    }
                }
                // No node of the pool has enough PUs and memory at once: nothing to walk. The nodes
                // that reach the walked dimension are short of the other one.
                let memoryGiB = CapacityIndex.memoryKey(request.memoryBytes)
                if reaching > 0, request.memoryBytes > 0, !pool.mayReachBoth(pus: request.cpus, memoryGiB: memoryGiB) {
                    let shortOfPUs = dimension == .memory
                        || (dimension != .pus && pool.byPUs.count(atLeast: request.cpus) < pool.byMemory.count(atLeast: memoryGiB))
                    if shortOfPUs {
                        tally.add(.tooFewCPUs, count: reaching, free: Int64(pool.byPUs.largestKey(below: request.cpus) ?? 0),
                                  capacity: Int64(pool.maxPUs))
                    } else {
                        tally.add(.tooLittleMemory, count: reaching, free: Int64(pool.byMemory.largestKey(below: memoryGiB) ?? 0) << 30,
                                  capacity: pool.maxMemory)
                    }
                    continue
                }
                // Walk the buckets that reach the request, in the policy's order.
                var found = 0, walked = 0
                // Rejections by filed capacity, counted here and added to the tally once per pool.
                var shortCPUs = 0, shortMemory = 0, shortGPUs = 0
                var mostCPUs: Int32 = 0, mostMemory: Int64 = 0, mostGPUs: Int16 = 0
                defer {
                    if shortCPUs > 0 { tally.add(.tooFewCPUs, count: shortCPUs, free: Int64(mostCPUs), capacity: Int64(pool.maxPUs)) }
                    if shortMemory > 0 { tally.add(.tooLittleMemory, count: shortMemory, free: mostMemory, capacity: pool.maxMemory) }
                    if shortGPUs > 0 {
                        tally.add(.tooFewGPUs, count: shortGPUs, free: request.sharesGPU ? 0 : Int64(mostGPUs), capacity: Int64(pool.maxGPUs))
                    }
                }
                var key = ascending ? threshold : buckets.maxKey
                walk: while key >= threshold && key <= buckets.maxKey {
                    for entry in buckets.lists[key] {
                        // Enough candidates; or, once one is found, enough nodes walked.
                        if let limit, found >= limit || (found > 0 && walked >= Self.walkBudget * limit) { break walk }
                        walked += 1
                        let i = Int(entry.node)
                        // What the index knows rules most nodes out without reading their state.
                        let k = entry.keys
                        if k.pus < request.cpus {
                            shortCPUs += 1
                            mostCPUs = max(mostCPUs, k.pus)
                            continue
                        }
                        if k.memory < request.memoryBytes {
                            shortMemory += 1
                            mostMemory = max(mostMemory, k.memory)
                            continue
                        }
                        if request.gpus > 0, request.sharesGPU ? Int(k.share) < request.gpuMilli : Int(k.gpus) < request.gpus {
                            shortGPUs += 1
                            mostGPUs = max(mostGPUs, k.gpus)
                            continue
                        }
                        if let r = filter(prepared, on: nodes[i]) {
                            tally.reject(r, request: request, node: nodes[i])
                            continue
                        }
                        if scoreNeedsPick {
                            guard let a = CPUAllocator.pick(request, on: nodes[i]) else {
                                tally.reject(.noTopologyFit, request: request, node: nodes[i])
                                continue
                            }
                            candidates.append(Candidate(node: i, tier: tier,
                                                        score: policy.score(request, on: nodes[i], assignment: a, workload: workload),
                                                        assignment: a))
                        } else {
                            candidates.append(Candidate(node: i, tier: tier, score: policy.score(request, on: nodes[i], workload: workload),
                                                        assignment: nil))
                        }
                        found += 1
                    }
                    key += ascending ? 1 : -1
                }
                notExamined += reaching - walked
            }
        }
        // Preferred tier first, then highest score; ties broken by snapshot order (node id).
        // Only the first is needed unless its pick fails, so sort lazily: best four first.
        func better(_ a: Candidate, _ b: Candidate) -> Bool {
            (b.tier, b.score, a.node) < (a.tier, a.score, b.node)
        }
        if candidates.count > 16 {
            for k in 0..<4 {
                var best = k
                for i in (k + 1)..<candidates.count where better(candidates[i], candidates[best]) { best = i }
                candidates.swapAt(k, best)
            }
            candidates[4...].sort(by: better)
        } else {
            candidates.sort(by: better)
        }
        var chosen: (rank: Int, assignment: Assignment)?
        var topologyMisses = 0
        for (rank, c) in candidates.enumerated() {
            if let a = c.assignment ?? CPUAllocator.pick(request, on: nodes[c.node]) {
                chosen = (rank, a)
                break
            }
            tally.reject(.noTopologyFit, request: request, node: nodes[c.node])
            topologyMisses += 1
        }
        let top = chosen.map { ch in
            candidates[ch.rank..<min(candidates.count, ch.rank + 3)].map { CandidateScore(node: nodes[$0.node].id, score: $0.score) }
        } ?? []
        var explanation = PlacementExplanation(policy: policy.rawValue, nodesEvaluated: nodes.count,
                                               nodesFeasible: candidates.count - topologyMisses,
                                               rejections: tally.counts(for: request), topCandidates: top)
        explanation.nodesNotExamined = notExamined > 0 ? notExamined : nil
        guard let chosen else { return .unplaceable(explanation) }
        let best = candidates[chosen.rank]
        let node = nodes[best.node]
        let u = SchedulingPolicy.utilisationAfter(request, node)
        explanation.chosen = ScoreBreakdown(tier: best.tier, cpuPercentAfter: u.cpu,
                                            memoryPercentAfter: u.memory, gpuPercentAfter: u.gpu)
        return .placed(chosen.assignment, score: best.score, explanation)
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

