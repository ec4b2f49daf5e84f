/// Filter → score → select for GPU-sharing tasks over a fleet of `ShareNode`s, under one
/// `PackingPolicy`. Owns the fleet's state: `place` applies the choice, `release` gives it back.
/// Used by `schedctl simulate` for every placement; pure.
///
/// Ties go to the node that comes first in `nodes`: the paper's simulator patches kube-scheduler's
/// `selectHost` to pick "the smallest lexicographical order if the score remains the same"
/// instead of its reservoir sampling, and the trace's node names sort in file order. (With
/// random tie-breaking GpuPacking, GpuClustering and FGD land 3 to 6 points above the published
/// numbers.) `random` picks a feasible node with one draw from `rng` and, as the paper's runs
/// configure it (`-gpusel random`), a random fitting GPU for a sharing task (`randomGPUs`). BestFit is min-max
/// normalised to 0...100 over the feasible nodes first, as in the paper's simulator. The product
/// policy ranks by (score, tie-break, lowest index) and draws nothing.
public struct SharePlacer {
    public var scorer: PackingScorer
    public private(set) var nodes: [ShareNode]
    /// `scorer.modelIndex(of:)` of each node, by position.
    public private(set) var models: [Int]
    /// Like the `Placer`'s preference tier: a CPU-only task goes to a node without GPUs when one
    /// fits. Off in the FGD experiment (its fleet has GPU nodes only); on for mixed fleets.
    public var preferCPUNodesForCPUTasks = false
    /// What the filters read, per node, without touching the node's arrays (the filters run on
    /// every node for every task).
    private var summaries: [Summary]
    /// A node of each model index (for the per-decision model check).
    private var modelExample: [Int]
    private var raw: [Int] = []
    private var feasible: [Int] = []

    struct Summary {
        var cpuFree: Int, memFree: Int, wholeFree: Int, maxFree: Int, gpus: Int, model: Int
        init(_ n: ShareNode, model: Int) {
            cpuFree = n.cpuMilliFree
            memFree = n.memoryMiBFree
            wholeFree = n.wholeFreeGPUs
            maxFree = n.gpuFree.max() ?? 0
            gpus = n.gpuCount
            self.model = model
        }
    }

    public init(scorer: PackingScorer, nodes: [ShareNode]) {
        self.scorer = scorer
        self.nodes = nodes
        let models = nodes.map { scorer.modelIndex(of: $0) }
        self.models = models
        summaries = nodes.indices.map { Summary(nodes[$0], model: models[$0]) }
        var example = Array(repeating: 0, count: (models.max() ?? 0) + 1)
        for i in nodes.indices.reversed() { example[models[i]] = i }
        modelExample = example
    }

    /// Chooses a node and GPUs for `pod` and applies them; nil when nothing fits.
    public mutating func place(_ pod: ShareRequest, rng: inout GoRandom) -> (node: Int, gpus: [Int])? {
        guard let c = choose(pod, rng: &rng) else { return nil }
        nodes[c.node].apply(pod, gpus: c.gpus)
        summaries[c.node] = Summary(nodes[c.node], model: models[c.node])
        return c
    }

    /// Gives back what `place` took.
    public mutating func release(_ pod: ShareRequest, node i: Int, gpus: [Int]) {
        nodes[i].release(pod, gpus: gpus)
        summaries[i] = Summary(nodes[i], model: models[i])
    }

    /// Chooses a node (position in `nodes`) and its GPUs for `pod`, or nil when none fits.
    public mutating func choose(_ pod: ShareRequest, rng: inout GoRandom) -> (node: Int, gpus: [Int])? {
        feasible.removeAll(keepingCapacity: true)
        // Which models the pod accepts, by model index (few models: computed once per decision).
        var accepted = Array(repeating: true, count: modelExample.count)
        if pod.gpus > 0 && !pod.gpuModels.isEmpty {
            for (m, i) in modelExample.enumerated() { accepted[m] = pod.accepts(nodes[i]) }
        }
        let share = pod.sharesGPU
        for i in summaries.indices {
            let s = summaries[i]
            guard s.cpuFree >= pod.cpuMilli, s.memFree >= pod.memoryMiB else { continue }
            if pod.gpus > 0 {
                guard s.gpus > 0, accepted[s.model] else { continue }
                if share ? s.maxFree < pod.gpuMilli : s.wholeFree < pod.gpus { continue }
            }
            feasible.append(i)
        }
        if feasible.isEmpty { return nil }
        if preferCPUNodesForCPUTasks, pod.gpus == 0, feasible.contains(where: { summaries[$0].gpus == 0 }) {
            feasible.removeAll { summaries[$0].gpus > 0 }
        }
        switch scorer.policy {
        case .random:
            // kube-scheduler skips scoring (so RandomScore's PreScore draw) when one node fits.
            let i = feasible.count == 1 ? feasible[0] : feasible[rng.intn(feasible.count)]
            return (i, PackingScorer.randomGPUs(pod, nodes[i], rng: &rng))
        case .fragmentationPacking:
            var best = -1
            var bestKey = (score: -Double.infinity, tie: -Double.infinity)
            var bestGPUs: [Int] = []
            for i in feasible {
                let c = scorer.score(pod, on: nodes[i], model: models[i])
                if best < 0 || c.score > bestKey.score || (c.score == bestKey.score && c.tieBreak > bestKey.tie) {
                    best = i
                    bestKey = (c.score, c.tieBreak)
                    bestGPUs = c.gpus
                }
            }
            return (best, bestGPUs)
        default:
            raw.removeAll(keepingCapacity: true)
            for i in feasible { raw.append(Int(scorer.rank(pod, on: nodes[i], model: models[i]))) }
            if scorer.policy == .bestFit, let lo = raw.min(), let hi = raw.max() {
                for k in raw.indices { raw[k] = hi == lo ? 0 : (raw[k] - lo) * 100 / (hi - lo) }
            }
            var pick = 0, maxScore = raw[0]
            for k in raw.indices.dropFirst() where raw[k] > maxScore {
                maxScore = raw[k]
                pick = k
            }
            let i = feasible[pick]
            return (i, scorer.score(pod, on: nodes[i], model: models[i]).gpus)
        }
    }
}
