/// One node's score for one task under a `PackingPolicy`, and the GPUs the task would get there.
public struct PackingCandidate: Sendable, Hashable {
    /// Higher is better. The paper's policies give its integers (BestFit before normalisation).
    public var score: Double
    /// The product policy's tie-break, higher is better (0 for the paper's policies).
    public var tieBreak: Double
    /// GPU indices the task gets on the node (empty for a CPU-only task).
    public var gpus: [Int]
}

/// Scores nodes for tasks under one policy. Pure; FGD and the product policy keep a memo of
/// fragmentation amounts (`FragmentationMemo`), so one scorer must not be used by two threads
/// at once: give each thread `fresh()`.
public struct PackingScorer: @unchecked Sendable {
    public let policy: PackingPolicy
    public let workload: TargetWorkload
    let memo: FragmentationMemo
    /// Largest node the paper's policies normalise by: 128 CPUs, 8 GPUs.
    static let maxCPU = 128_000.0, maxGPU = 8000.0

    public init(policy: PackingPolicy, workload: TargetWorkload = TargetWorkload(shapes: [])) {
        self.policy = policy
        self.workload = workload
        memo = FragmentationMemo(workload: workload)
    }

    /// The same scorer with an empty memo of its own.
    public func fresh() -> PackingScorer { PackingScorer(policy: policy, workload: workload) }

    /// A small integer standing for `node`'s GPU model in `score(_:on:model:)`.
    public func modelIndex(of node: ShareNode) -> Int { memo.index(of: node) }

    /// Whether `node` can take `pod` at all: CPU, memory, GPU model, and GPU share (a sharing
    /// task needs one GPU with enough free share; a k-GPU task k wholly free GPUs).
    public static func fits(_ pod: ShareRequest, _ node: ShareNode) -> Bool {
        guard node.cpuMilliFree >= pod.cpuMilli, node.memoryMiBFree >= pod.memoryMiB else { return false }
        guard pod.gpus > 0 else { return true }
        guard !node.gpuFree.isEmpty, pod.accepts(node) else { return false }
        var n = 0
        if pod.sharesGPU {
            for f in node.gpuFree where f >= pod.gpuMilli { return true }
            return false
        }
        for f in node.gpuFree where f == 1000 { n += 1 }
        return n >= pod.gpus
    }

    /// The node's score for `pod` (which must fit), without the GPU pick (no allocation for the
    /// paper's simple policies: this runs for every feasible node of every decision).
    public func rank(_ pod: ShareRequest, on node: ShareNode, model: Int) -> Double {
        switch policy {
        case .random: 0
        case .dotProduct: Self.dotProductScore(pod, node)
        case .gpuClustering: Double(Self.clustering(pod, node))
        case .gpuPacking: Double(Self.packing(pod, node))
        case .bestFit: Double(Self.bestFitRaw(pod, node))
        case .fgd, .fragmentationPacking: score(pod, on: node, model: model).score
        }
    }

    /// The node's score for `pod` (which must fit) and the GPUs it would get.
    /// `model` is `modelIndex(of: node)`.
    public func score(_ pod: ShareRequest, on node: ShareNode, model: Int) -> PackingCandidate {
        switch policy {
        case .random: PackingCandidate(score: 0, tieBreak: 0, gpus: Self.bestFitGPUs(pod, node))
        case .dotProduct: Self.dotProduct(pod, node)
        case .gpuClustering: PackingCandidate(score: Double(Self.clustering(pod, node)), tieBreak: 0, gpus: Self.bestFitGPUs(pod, node))
        case .gpuPacking: PackingCandidate(score: Double(Self.packing(pod, node)), tieBreak: 0, gpus: Self.bestFitGPUs(pod, node))
        case .bestFit: PackingCandidate(score: Double(Self.bestFitRaw(pod, node)), tieBreak: 0, gpus: Self.bestFitGPUs(pod, node))
        case .fgd: fgd(pod, node, model)
        case .fragmentationPacking: fragmentationPacking(pod, node, model)
        }
    }

    // MARK: GPU choice inside a node

    /// The simulator's default GPU choice: a sharing task takes the fitting GPU with the least
    /// free share (lowest index on ties); whole-GPU tasks take the lowest-indexed free GPUs.
    public static func bestFitGPUs(_ pod: ShareRequest, _ node: ShareNode) -> [Int] {
        if pod.gpus == 0 { return [] }
        if pod.sharesGPU {
            var best = -1
            for (g, f) in node.gpuFree.enumerated() where f >= pod.gpuMilli && (best < 0 || f < node.gpuFree[best]) { best = g }
            return best < 0 ? [] : [best]
        }
        return firstFreeGPUs(pod.gpus, node)
    }

    /// The simulator's random GPU choice (`gpuSelMethod: random`, which the paper's Random runs
    /// use): a sharing task takes a uniformly random fitting GPU, chosen by reservoir sampling in
    /// index order with one `Intn(count so far)` per fitting GPU (Go's `Intn(1)` draws too);
    /// whole-GPU tasks take the lowest-indexed free GPUs and draw nothing.
    public static func randomGPUs(_ pod: ShareRequest, _ node: ShareNode, rng: inout GoRandom) -> [Int] {
        if pod.gpus == 0 { return [] }
        guard pod.sharesGPU else { return firstFreeGPUs(pod.gpus, node) }
        var pick = -1, count = 0
        for (g, f) in node.gpuFree.enumerated() where f >= pod.gpuMilli {
            count += 1
            if rng.intn(count) == 0 { pick = g }
        }
        return pick < 0 ? [] : [pick]
    }

    static func firstFreeGPUs(_ k: Int, _ node: ShareNode) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(k)
        for (g, f) in node.gpuFree.enumerated() where f == 1000 && out.count < k { out.append(g) }
        return out
    }

    // MARK: The paper's policies

    /// DotProd ("share" dimensions, normalised by the largest node): for a sharing task each
    /// partly used GPU that fits is one candidate (CPU free, that GPU's free share), the whole
    /// free GPUs together another; the candidate with the smallest dot product wins.
    static func dotProductScore(_ pod: ShareRequest, _ node: ShareNode) -> Double {
        let cpuTerm = Double(node.cpuMilliFree) / maxCPU * (Double(pod.cpuMilli) / maxCPU)
        let req = pod.gpuDemandMilli
        var bestDot = Double.infinity
        if req < 1000 {
            for f in node.gpuFree where f < 1000 && f >= req {
                bestDot = min(bestDot, cpuTerm + Double(f) / maxGPU * (Double(req) / maxGPU))
            }
        }
        let idle = node.wholeFreeGPUs
        if req <= idle * 1000 { bestDot = min(bestDot, cpuTerm + Double(idle * 1000) / maxGPU * (Double(req) / maxGPU)) }
        return bestDot.isFinite ? Double(Int64(100 * (1 - bestDot / 2))) : 0
    }

    static func dotProduct(_ pod: ShareRequest, _ node: ShareNode) -> PackingCandidate {
        let cpuTerm = Double(node.cpuMilliFree) / maxCPU * (Double(pod.cpuMilli) / maxCPU)
        let req = pod.gpuDemandMilli
        var bestDot = Double.infinity
        var gpus: [Int] = []
        if req < 1000 {
            for (g, f) in node.gpuFree.enumerated() where f < 1000 && f >= req {
                let dot = cpuTerm + Double(f) / maxGPU * (Double(req) / maxGPU)
                if dot < bestDot { bestDot = dot; gpus = req > 0 ? [g] : [] }
            }
        }
        let idle = node.wholeFreeGPUs
        if req <= idle * 1000 {
            let dot = cpuTerm + Double(idle * 1000) / maxGPU * (Double(req) / maxGPU)
            if dot < bestDot {
                bestDot = dot
                gpus = req > 0 ? firstFreeGPUs(max(1, pod.gpus), node) : []
            }
        }
        guard bestDot.isFinite else { return PackingCandidate(score: 0, tieBreak: 0, gpus: bestFitGPUs(pod, node)) }
        return PackingCandidate(score: Double(Int64(100 * (1 - bestDot / 2))), tieBreak: 0, gpus: gpus)
    }

    /// GpuClustering: (75, 100] when the node runs only tasks of the pod's GPU kind, (50, 75]
    /// when it runs that kind among others, (25, 50] when it runs no GPU task, (0, 25] otherwise;
    /// within a band, less free GPU share scores higher. CPU-only tasks score 0 everywhere.
    static func clustering(_ pod: ShareRequest, _ node: ShareNode) -> Int {
        guard let kind = pod.kind else { return 0 }
        let within = 25 * (8000 - node.gpuFreeTotal) / 8000
        var kinds = 0
        for c in node.tasksByKind where c > 0 { kinds += 1 }
        if node.tasksByKind[kind] > 0 { return within + (kinds == 1 ? 75 : 50) }
        return within + (kinds == 0 ? 25 : 0)
    }

    /// GpuPacking: shared GPUs first (100 minus a tenth of their free percentage, at least 50),
    /// then free GPUs of a used node (50 minus how many, at least 33), then an empty node
    /// (33 minus its GPUs). CPU-only tasks score 0 everywhere.
    static func packing(_ pod: ShareRequest, _ node: ShareNode) -> Int {
        guard pod.gpuDemandMilli > 0 else { return 0 }
        let fullyFree = node.wholeFreeGPUs
        if fullyFree == node.gpuCount { return max(33 - fullyFree, fullyFree) }
        // Least free first (stable), take the first GPUs the task fits on.
        let order = node.gpuFree.indices.sorted { (node.gpuFree[$0], $0) < (node.gpuFree[$1], $1) }
        var need = pod.gpus, freeToUse = 0, sharedFreePct = 0
        for g in order where need > 0 && node.gpuFree[g] >= pod.gpuMilli {
            need -= 1
            if node.gpuFree[g] == 1000 { freeToUse += 1 }
            sharedFreePct += node.gpuFree[g] * 100 / 1000
        }
        if need > 0 { return 0 }
        if freeToUse > 0 { return max(50 - freeToUse, 33) }
        return max(100 - sharedFreePct / 10, 50)
    }

    /// BestFit before normalisation: 100 × (1 − ½·CPU left/128 CPUs − ½·GPU share left/8 GPUs).
    static func bestFitRaw(_ pod: ShareRequest, _ node: ShareNode) -> Int {
        let cpu = Double(node.cpuMilliFree - pod.cpuMilli) / maxCPU * 0.5
        let gpu = Double(node.gpuFreeTotal - pod.gpuDemandMilli) / maxGPU * 0.5
        return Int(Int64((1 - (cpu + gpu)) * 100))
    }

    // MARK: Fragmentation

    /// FGD: for a sharing task, each fitting GPU is tried and the best kept (lowest index on
    /// ties); other tasks take the least-free fitting GPUs for the fragmentation estimate and
    /// the lowest-indexed free GPUs for the pick. Score: ⌊sigmoid(−Δ/1000) × 100⌋.
    func fgd(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        fragmentationScore(pod, node, model, cpuBefore: node.cpuMilliFree, cpuAfter: node.cpuMilliFree - pod.cpuMilli, tieBreak: 0)
    }

    /// FGD's scoring with the CPU a typical task could use before and after placement given by
    /// the caller (FGD: free CPU; `default`: free CPU capped by free memory) and a tie-break.
    func fragmentationScore(_ pod: ShareRequest, _ node: ShareNode, _ model: Int,
                            cpuBefore: Int, cpuAfter: Int, tieBreak: Double) -> PackingCandidate {
        let before = memo.amount(gpuFree: node.gpuFree, cpuMilliFree: cpuBefore, model: model)
        func score(_ after: Double) -> Double { Double(Int64(Self.sigmoid((before - after) / 1000) * 100)) }
        if pod.sharesGPU {
            var best = -1.0, gpu = -1
            for (g, f) in node.gpuFree.enumerated() where f >= pod.gpuMilli {
                let after = memo.amount(gpuFree: node.gpuFree, replacing: g, with: f - pod.gpuMilli, take: 0, count: 0,
                                        cpuMilliFree: cpuAfter, model: model)
                let s = score(after)
                if gpu < 0 || s > best { best = s; gpu = g }
            }
            return PackingCandidate(score: best, tieBreak: tieBreak, gpus: gpu < 0 ? [] : [gpu])
        }
        let after = memo.amount(gpuFree: node.gpuFree, replacing: -1, with: 0, take: pod.gpuMilli, count: pod.gpus,
                                cpuMilliFree: cpuAfter, model: model)
        return PackingCandidate(score: score(after), tieBreak: tieBreak, gpus: Self.firstFreeGPUs(pod.gpus, node))
    }

    static func sigmoid(_ x: Double) -> Double { SchedCore.sigmoid(x) }

    /// The product policy; see `PackingScorer+Default.swift`.
    func fragmentationPacking(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        defaultScore(pod, node, model)
    }
}
