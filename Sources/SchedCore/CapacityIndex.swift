/// Free capacity of the fleet, bucketed so that a decision walks only nodes that could hold the
/// request instead of the whole fleet.
///
/// Schedulable nodes are grouped into pools of the same static kind (architecture, GPU models,
/// number of PUs and GPUs). In each pool, four bucket arrays hold the nodes by free PUs, free
/// CPU memory (GiB), whole free GPUs and the largest free share of any one GPU. A request reads
/// how many nodes of a pool reach its size in each dimension, walks the dimension with the fewest
/// such nodes, tightest bucket first (or loosest first for spreading policies), and checks each
/// node's filed free capacity (`keys`) before running the full filters on it. Moving a node
/// between buckets is O(log keys), so every apply or release keeps the index exact. Value
/// semantics: copying a snapshot copies its index (copy-on-write arrays).
struct CapacityIndex: Sendable {
    /// The static kind of a node that requests are matched against before any bucket is read.
    struct PoolKey: Hashable, Sendable {
        var arch: String
        /// Distinct GPU models of the node, lowercased, sorted; empty for a node without GPUs.
        var models: [[UInt8]]
        /// PUs and GPUs of the node (so a pool's capacity is every member's capacity).
        var pus: Int
        var gpus: Int
    }

    /// A resource dimension with its own buckets.
    enum Dimension: Int, Sendable, CaseIterable { case pus, memory, gpus, share }

    /// Nodes of one kind, bucketed by free capacity.
    struct Pool: Sendable {
        var key: PoolKey
        /// Schedulable members.
        var live = 0
        var maxPUs: Int { key.pus }
        var maxGPUs: Int { key.gpus }
        /// The largest CPU memory of any member, in bytes.
        var maxMemory: Int64 = 0
        var byPUs = CapacityBuckets(maxKey: 0)
        var byMemory = CapacityBuckets(maxKey: 0)
        var byGPUs = CapacityBuckets(maxKey: 0)
        var byShare = CapacityBuckets(maxKey: 0)
        /// Members counted on a coarse grid of (free PUs, free memory), both in powers of two, so
        /// a request can learn at once that no node has enough of both.
        var grid = [Int32](repeating: 0, count: CapacityIndex.gridCells)
        var hasGPUs: Bool { !key.models.isEmpty }

        /// Whether some member may have at least `pus` free PUs and `memoryGiB` GiB free at once
        /// (false proves none has; true may be a near miss).
        func mayReachBoth(pus: Int, memoryGiB: Int) -> Bool {
            for a in CapacityIndex.gridRow(reaching: pus)..<CapacityIndex.gridRows {
                for b in CapacityIndex.gridRow(reaching: memoryGiB)..<CapacityIndex.gridRows
                where grid[a * CapacityIndex.gridRows + b] > 0 { return true }
            }
            return false
        }

        init(key: PoolKey) { self.key = key }

        /// The bucket array of one dimension.
        func buckets(_ d: Dimension) -> CapacityBuckets {
            switch d {
            case .pus: byPUs
            case .memory: byMemory
            case .gpus: byGPUs
            case .share: byShare
            }
        }

        /// The dimensions a request can be walked in, with the bucket key it needs and how many
        /// members reach it, fewest reaching first (ties in dimension order).
        func walkOptions(for request: ResourceRequest) -> [(dimension: Dimension, threshold: Int, reaching: Int)] {
            var options: [(dimension: Dimension, threshold: Int, reaching: Int)] = [(.pus, request.cpus, byPUs.count(atLeast: request.cpus))]
            if request.memoryBytes > 0 {
                let t = CapacityIndex.memoryKey(request.memoryBytes)
                options.append((.memory, t, byMemory.count(atLeast: t)))
            }
            if request.gpus > 0 {
                let (d, t): (Dimension, Int) = request.sharesGPU ? (.share, request.gpuMilli) : (.gpus, request.gpus)
                options.append((d, t, buckets(d).count(atLeast: t)))
            }
            options.sort { ($0.reaching, $0.dimension.rawValue) < ($1.reaching, $1.dimension.rawValue) }
            return options
        }

        /// Whether some GPU model of the pool contains `want` (nil or empty: any GPU).
        func hasModel(_ want: [UInt8]?) -> Bool {
            guard let want, !want.isEmpty else { return hasGPUs }
            return key.models.contains { NodeState.bytes($0, contain: want) }
        }
    }

    /// A node's free capacity as filed.
    struct Keys: Equatable, Sendable {
        var pus: Int32 = 0
        var gpus: Int16 = 0
        var share: Int16 = 0
        var memory: Int64 = 0
        init() {}
        init(_ n: NodeState) {
            pus = Int32(n.freePUCount)
            gpus = Int16(clamping: n.freeGPUCount)
            share = Int16(n.largestFreeShare)
            memory = n.freeMemoryBytes
        }
        /// The bucket key of each dimension.
        func key(_ d: Dimension) -> Int {
            switch d {
            case .pus: Int(pus)
            case .memory: CapacityIndex.memoryKey(memory)
            case .gpus: Int(gpus)
            case .share: Int(share)
            }
        }
    }

    /// Grid rows per axis: 0, then one per power of two (1, 2-3, 4-7, ...), the last open-ended.
    static let gridRows = 16
    static let gridCells = gridRows * gridRows
    /// The grid row of a value.
    static func gridRow(_ v: Int) -> Int {
        v <= 0 ? 0 : min(gridRows - 1, 1 + (Int.bitWidth - 1 - v.leadingZeroBitCount))
    }
    /// The first grid row whose values can reach `v` (rows below hold only smaller values).
    static func gridRow(reaching v: Int) -> Int { gridRow(v) }
    static func gridCell(_ k: Keys) -> Int { gridRow(Int(k.pus)) * gridRows + gridRow(k.key(.memory)) }

    /// Memory is bucketed by whole GiB (rounded down); the walk checks exact bytes.
    static func memoryKey(_ bytes: Int64) -> Int { Int(min(bytes >> 30, 1 << 20)) }

    private(set) var pools: [Pool] = []
    /// Per node: its pool.
    private(set) var poolOf: [Int32] = []
    /// Per node: whether it is filed (schedulable).
    private(set) var filed: [Bool] = []
    /// Per node: its free capacity as filed, read by the walk to rule nodes out without
    /// touching their state.
    private(set) var keys: [Keys] = []
    /// Per node: its slot in its bucket, per dimension.
    private var slots: [(Int32, Int32, Int32, Int32)] = []
    /// Per node not filed: its unschedulable reason (`RejectionReason` position).
    private var reasonOf: [UInt8] = []
    /// Nodes not filed, per unschedulable reason (`RejectionReason` position).
    private(set) var unschedulable = [Int](repeating: 0, count: RejectionReason.allCases.count)
    /// NVLink domains (node label `nvlink.domain`): names, and each domain's nodes.
    private(set) var domainNames: [String] = []
    private(set) var domainMembers: [[Int32]] = []
    /// Per node: its domain's position in `domainNames`, or -1.
    private(set) var domainOf: [Int32] = []

    init(nodes: [NodeState]) {
        var poolIndex: [PoolKey: Int] = [:]
        var domainIndex: [String: Int] = [:]
        poolOf.reserveCapacity(nodes.count)
        for n in nodes {
            let key = PoolKey(arch: n.canonicalArch, models: n.distinctGPUModels, pus: n.puCount, gpus: n.topology.gpus.count)
            let p: Int
            if let existing = poolIndex[key] {
                p = existing
            } else {
                p = pools.count
                poolIndex[key] = p
                pools.append(Pool(key: key))
            }
            pools[p].maxMemory = max(pools[p].maxMemory, n.cpuMemoryBytes)
            poolOf.append(Int32(p))
            if let d = n.labels[GangPlacer.domainLabel] {
                let k: Int
                if let existing = domainIndex[d] {
                    k = existing
                } else {
                    k = domainNames.count
                    domainIndex[d] = k
                    domainNames.append(d)
                    domainMembers.append([])
                }
                domainMembers[k].append(Int32(poolOf.count - 1))
                domainOf.append(Int32(k))
            } else {
                domainOf.append(-1)
            }
        }
        for p in pools.indices {
            pools[p].byPUs = CapacityBuckets(maxKey: pools[p].maxPUs)
            pools[p].byMemory = CapacityBuckets(maxKey: Self.memoryKey(pools[p].maxMemory))
            if pools[p].hasGPUs {
                pools[p].byGPUs = CapacityBuckets(maxKey: pools[p].maxGPUs)
                pools[p].byShare = CapacityBuckets(maxKey: 1000)
            }
        }
        filed = Array(repeating: false, count: nodes.count)
        reasonOf = Array(repeating: 0, count: nodes.count)
        keys = Array(repeating: Keys(), count: nodes.count)
        slots = Array(repeating: (0, 0, 0, 0), count: nodes.count)
        for (i, n) in nodes.enumerated() { file(i, n) }
    }

    /// Files node `i` by its current state (it must not be filed).
    private mutating func file(_ i: Int, _ n: NodeState) {
        guard n.schedulable else {
            let r = Self.position(n.unschedulableReason)
            reasonOf[i] = UInt8(r)
            keys[i] = Keys()
            unschedulable[r] += 1
            return
        }
        let p = Int(poolOf[i])
        let k = Keys(n)
        keys[i] = k
        filed[i] = true
        pools[p].live += 1
        let node = Int32(i)
        pools[p].byPUs.insert(node, keys: k, key: k.key(.pus), slot: &slots[i].0)
        pools[p].byMemory.insert(node, keys: k, key: k.key(.memory), slot: &slots[i].1)
        pools[p].grid[Self.gridCell(k)] += 1
        if pools[p].hasGPUs {
            pools[p].byGPUs.insert(node, keys: k, key: k.key(.gpus), slot: &slots[i].2)
            pools[p].byShare.insert(node, keys: k, key: k.key(.share), slot: &slots[i].3)
        }
    }

    /// Takes node `i` out of the index.
    private mutating func unfile(_ i: Int) {
        guard filed[i] else {
            unschedulable[Int(reasonOf[i])] -= 1
            return
        }
        let p = Int(poolOf[i])
        let k = keys[i]
        filed[i] = false
        pools[p].live -= 1
        if let moved = pools[p].byPUs.remove(key: k.key(.pus), slot: slots[i].0) { slots[Int(moved)].0 = slots[i].0 }
        if let moved = pools[p].byMemory.remove(key: k.key(.memory), slot: slots[i].1) { slots[Int(moved)].1 = slots[i].1 }
        pools[p].grid[Self.gridCell(k)] -= 1
        if pools[p].hasGPUs {
            if let moved = pools[p].byGPUs.remove(key: k.key(.gpus), slot: slots[i].2) { slots[Int(moved)].2 = slots[i].2 }
            if let moved = pools[p].byShare.remove(key: k.key(.share), slot: slots[i].3) { slots[Int(moved)].3 = slots[i].3 }
        }
    }

    /// Re-files node `i` after its state changed to `new` (same topology and labels).
    mutating func update(_ i: Int, to new: NodeState) {
        if filed[i], new.schedulable {
            let k = Keys(new)
            let old = keys[i]
            if k == old { return }
            // Same buckets (memory within the same GiB): only the exact numbers change.
            if k.pus == old.pus, k.gpus == old.gpus, k.share == old.share, k.key(.memory) == old.key(.memory) {
                keys[i] = k
                let p = Int(poolOf[i])
                pools[p].byPUs.setKeys(k, key: k.key(.pus), slot: slots[i].0)
                pools[p].byMemory.setKeys(k, key: k.key(.memory), slot: slots[i].1)
                if pools[p].hasGPUs {
                    pools[p].byGPUs.setKeys(k, key: k.key(.gpus), slot: slots[i].2)
                    pools[p].byShare.setKeys(k, key: k.key(.share), slot: slots[i].3)
                }
                return
            }
        }
        unfile(i)
        file(i, new)
    }

    /// Filed nodes whose free capacity reaches `request` in every dimension the index keeps
    /// (PUs, memory, whole GPUs or GPU share), in pools whose kind matches (in bucket order).
    /// A necessary condition for fitting: the filters and the in-node pick may still refuse.
    func positionsReaching(_ request: ResourceRequest, arch: String?, model: [UInt8]?) -> [Int] {
        var out: [Int] = []
        for pool in pools where pool.live > 0 {
            if let arch, arch != pool.key.arch { continue }
            if request.gpus > 0, !pool.hasGPUs || (model != nil && !pool.hasModel(model)) { continue }
            let (dimension, threshold, reaching) = pool.walkOptions(for: request)[0]
            guard reaching > 0 else { continue }
            let buckets = pool.buckets(dimension)
            for key in threshold...buckets.maxKey {
                for entry in buckets.lists[key] where Self.reaches(entry.keys, request) { out.append(Int(entry.node)) }
            }
        }
        return out
    }

    /// Whether filed capacity `k` reaches `request`.
    static func reaches(_ k: Keys, _ request: ResourceRequest) -> Bool {
        Int(k.pus) >= request.cpus && k.memory >= request.memoryBytes
            && (request.gpus == 0 || (request.sharesGPU ? Int(k.share) >= request.gpuMilli : Int(k.gpus) >= request.gpus))
    }

    /// At most how many tasks of `request` node `i` could take, from its filed capacity.
    func tasksFitting(_ request: ResourceRequest, at i: Int) -> Int {
        let k = keys[i]
        var n = Int(k.pus) / max(1, request.cpus)
        if request.memoryBytes > 0 { n = min(n, Int(k.memory / request.memoryBytes)) }
        if request.gpus > 0 {
            // A share: at most 1000 / share tasks on each GPU, and none when no GPU has enough left.
            let shares = Int(k.share) >= request.gpuMilli ? pools[Int(poolOf[i])].maxGPUs * (1000 / max(1, request.gpuMilli)) : 0
            n = min(n, request.sharesGPU ? shares : Int(k.gpus) / request.gpus)
        }
        return n
    }

    static func position(_ r: RejectionReason) -> Int { r.position }
}
