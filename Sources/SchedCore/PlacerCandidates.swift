/// The candidates phase of `Placer.decide`: which nodes could take one task of `request`, with
/// the rejections of the others counted for the explanation.
///
/// Pools whose kind cannot match are ruled out whole. In each other pool, the dimension with the
/// fewest nodes large enough is walked in the policy's order, and the filters run on those nodes
/// only, until `limit` feasible nodes are found. Pools of the preferred tier go first; when they
/// give a feasible node the others are not looked at. Each feasible node is scored as it is found.
struct CandidateSearch {
    let placer: Placer
    let request: ResourceRequest
    let prepared: Placer.Prepared
    let index: CapacityIndex
    let nodes: UnsafeBufferPointer<NodeState>
    let limit: Int?
    /// The fragmentation-aware policy needs the in-node pick to score.
    let scoreNeedsPick: Bool
    /// Walk order: tightest nodes first for packing policies, loosest first for spreading ones.
    let ascending: Bool
    var tally = RejectionTally()
    var candidates: [Placer.Candidate] = []
    /// Nodes that reach the request in the walked dimension but were not looked at.
    var notExamined = 0

    init(placer: Placer, request: ResourceRequest, index: CapacityIndex, nodes: UnsafeBufferPointer<NodeState>, limit: Int?) {
        self.placer = placer
        self.request = request
        self.prepared = Placer.Prepared(request)
        self.index = index
        self.nodes = nodes
        self.limit = limit
        scoreNeedsPick = placer.policy == .fragmentationAware
        ascending = placer.policy.prefersTightNodes
        candidates.reserveCapacity(2 * (limit ?? 8))
        for (k, n) in index.unschedulable.enumerated() where n > 0 { tally.add(k, count: n) }
    }

    /// Looks at the pools, preferred tier first.
    mutating func run() {
        for tier in [1, 0] {
            for pool in index.pools where pool.live > 0 && Placer.tier(request, hasGPUs: pool.hasGPUs) == tier {
                guard poolMayMatch(pool) else { continue }
                // A pool of the lower tier cannot win once the preferred tier has a candidate.
                if limit != nil, tier == 0, !candidates.isEmpty {
                    notExamined += pool.live
                    continue
                }
                walk(pool, tier: tier)
            }
        }
    }

    /// The pool-level filters: architecture, GPU model, GPUs at all. A pool that fails one is
    /// counted whole under that reason.
    @inline(__always)
    mutating func poolMayMatch(_ pool: CapacityIndex.Pool) -> Bool {
        if let arch = prepared.arch, arch != pool.key.arch {
            tally.add(.wrongArch, count: pool.live)
            return false
        }
        if request.gpus > 0, prepared.model != nil, !pool.hasModel(prepared.model) {
            tally.add(.noGPUModel, count: pool.live, free: 0, capacity: 0)
            return false
        }
        if request.gpus > 0, !pool.hasGPUs {
            tally.add(.tooFewGPUs, count: pool.live, free: 0, capacity: 0)
            return false
        }
        return true
    }

    /// The dimension to walk: the one with the fewest nodes that reach the request, unless its
    /// first nodes in walk order are all short in another dimension (a pool that runs out of
    /// memory before PUs) and another dimension's are not.
    @inline(__always)
    func walkDimension(_ pool: CapacityIndex.Pool) -> (dimension: CapacityIndex.Dimension, threshold: Int, reaching: Int) {
        let options = pool.walkOptions(for: request)
        if limit != nil, options.count > 1, options[0].reaching > Placer.probeLength {
            for o in options where Placer.probe(pool.buckets(o.dimension), from: o.threshold, ascending: ascending, request) {
                return o
            }
        }
        return options[0]
    }

    /// Walks one pool's nodes that reach the request in the walked dimension, in the policy's order.
    mutating func walk(_ pool: CapacityIndex.Pool, tier: Int) {
        let (dimension, threshold, reaching) = walkDimension(pool)
        let buckets = pool.buckets(dimension)
        if reaching < pool.live { tallyOutOfReach(pool, dimension, buckets: buckets, threshold: threshold, count: pool.live - reaching) }
        guard !noNodeReachesBoth(pool, walked: dimension, reaching: reaching) else { return }
        var found = 0, walked = 0
        // Rejections by filed capacity, counted here and added to the tally once per pool.
        var short = ShortByKeys()
        defer { short.addTo(&tally, request: request, pool: pool) }
        var key = ascending ? threshold : buckets.maxKey
        walk: while key >= threshold && key <= buckets.maxKey {
            for entry in buckets.lists[key] {
                // Enough candidates; or, once one is found, enough nodes walked.
                if let limit, found >= limit || (found > 0 && walked >= Placer.walkBudget * limit) { break walk }
                walked += 1
                // What the index knows rules most nodes out without reading their state.
                guard short.admits(entry.keys, request) else { continue }
                if consider(Int(entry.node), tier: tier) { found += 1 }
            }
            key += ascending ? 1 : -1
        }
        notExamined += reaching - walked
    }

    /// The node-level filters on one node, then its score: whether it became a candidate.
    @inline(__always)
    mutating func consider(_ i: Int, tier: Int) -> Bool {
        if let r = placer.filter(prepared, on: nodes[i]) {
            tally.reject(r, request: request, node: nodes[i])
            return false
        }
        if scoreNeedsPick {
            guard let a = CPUAllocator.pick(request, on: nodes[i]) else {
                tally.reject(.noTopologyFit, request: request, node: nodes[i])
                return false
            }
            candidates.append(Placer.Candidate(node: i, tier: tier,
                                               score: placer.policy.score(request, on: nodes[i], assignment: a, workload: placer.workload),
                                               assignment: a))
        } else {
            candidates.append(Placer.Candidate(node: i, tier: tier, score: placer.policy.score(request, on: nodes[i], workload: placer.workload),
                                               assignment: nil))
        }
        return true
    }

    /// Counts the nodes of a pool below the request in the walked dimension, with the largest of them.
    mutating func tallyOutOfReach(_ pool: CapacityIndex.Pool, _ dimension: CapacityIndex.Dimension, buckets: CapacityBuckets,
                                  threshold: Int, count n: Int) {
        let best = Int64(buckets.largestKey(below: threshold) ?? 0)
        switch dimension {
        case .pus: tally.add(.tooFewCPUs, count: n, free: best, capacity: Int64(pool.maxPUs))
        case .memory: tally.add(.tooLittleMemory, count: n, free: best << 30, capacity: pool.maxMemory)
        case .gpus: tally.add(.tooFewGPUs, count: n, free: best, capacity: Int64(pool.maxGPUs))
        case .share: tally.add(.tooFewGPUs, count: n, free: 0, capacity: Int64(pool.maxGPUs))
        }
    }

    /// Whether no node of the pool has enough PUs and memory at once (nothing to walk); the
    /// nodes that reach the walked dimension are then counted short of the other one.
    mutating func noNodeReachesBoth(_ pool: CapacityIndex.Pool, walked dimension: CapacityIndex.Dimension, reaching: Int) -> Bool {
        let memoryGiB = CapacityIndex.memoryKey(request.memoryBytes)
        guard reaching > 0, request.memoryBytes > 0, !pool.mayReachBoth(pus: request.cpus, memoryGiB: memoryGiB) else { return false }
        let shortOfPUs = dimension == .memory
            || (dimension != .pus && pool.byPUs.count(atLeast: request.cpus) < pool.byMemory.count(atLeast: memoryGiB))
        if shortOfPUs {
            tally.add(.tooFewCPUs, count: reaching, free: Int64(pool.byPUs.largestKey(below: request.cpus) ?? 0),
                      capacity: Int64(pool.maxPUs))
        } else {
            tally.add(.tooLittleMemory, count: reaching, free: Int64(pool.byMemory.largestKey(below: memoryGiB) ?? 0) << 30,
                      capacity: pool.maxMemory)
        }
        return true
    }
}

/// Nodes of one pool ruled out by the capacity index's keys alone (no node state read), with the
/// most each had of what it lacked.
struct ShortByKeys {
    var cpus = 0, memory = 0, gpus = 0
    var mostCPUs: Int32 = 0, mostMemory: Int64 = 0, mostGPUs: Int16 = 0

    /// Whether the keys reach the request; if not, the node is counted under the first shortfall.
    @inline(__always)
    mutating func admits(_ k: CapacityIndex.Keys, _ request: ResourceRequest) -> Bool {
        if k.pus < request.cpus {
            cpus += 1
            mostCPUs = max(mostCPUs, k.pus)
            return false
        }
        if k.memory < request.memoryBytes {
            memory += 1
            mostMemory = max(mostMemory, k.memory)
            return false
        }
        if request.gpus > 0, request.sharesGPU ? Int(k.share) < request.gpuMilli : Int(k.gpus) < request.gpus {
            gpus += 1
            mostGPUs = max(mostGPUs, k.gpus)
            return false
        }
        return true
    }

    func addTo(_ tally: inout RejectionTally, request: ResourceRequest, pool: CapacityIndex.Pool) {
        if cpus > 0 { tally.add(.tooFewCPUs, count: cpus, free: Int64(mostCPUs), capacity: Int64(pool.maxPUs)) }
        if memory > 0 { tally.add(.tooLittleMemory, count: memory, free: mostMemory, capacity: pool.maxMemory) }
        if gpus > 0 { tally.add(.tooFewGPUs, count: gpus, free: request.sharesGPU ? 0 : Int64(mostGPUs), capacity: Int64(pool.maxGPUs)) }
    }
}
