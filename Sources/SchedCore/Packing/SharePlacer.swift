/// Filter → score → select for GPU-sharing tasks over a list of `ShareNode`s, under one
/// `PackingPolicy`. Used by `schedctl simulate` for every placement; pure.
///
/// Ties go to the node that comes first in `nodes`: the paper's simulator patches kube-scheduler's
/// `selectHost` to pick "the smallest lexicographical order if the score remains the same"
/// instead of its reservoir sampling, and the trace's node names sort in file order. (With
/// random tie-breaking GpuPacking, GpuClustering and FGD land 3 to 6 points above the published
/// numbers.) `random` picks a feasible node with one draw from `rng`. BestFit is min-max
/// normalised to 0...100 over the feasible nodes first, as in the paper's simulator. The product
/// policy ranks by (score, tie-break, lowest index) and draws nothing.
public struct SharePlacer {
    public var scorer: PackingScorer
    /// `scorer.modelIndex(of:)` of each node, by position.
    public private(set) var models: [Int]
    private var raw: [Int] = []
    private var feasible: [Int] = []

    public init(scorer: PackingScorer, nodes: [ShareNode]) {
        self.scorer = scorer
        models = nodes.map { scorer.modelIndex(of: $0) }
    }

    /// Chooses a node (position in `nodes`) and its GPUs for `pod`, or nil when none fits.
    public mutating func choose(_ pod: ShareRequest, nodes: [ShareNode], rng: inout GoRandom) -> (node: Int, gpus: [Int])? {
        feasible.removeAll(keepingCapacity: true)
        for i in nodes.indices where PackingScorer.fits(pod, nodes[i]) { feasible.append(i) }
        if feasible.isEmpty { return nil }
        switch scorer.policy {
        case .random:
            let i = feasible[rng.intn(feasible.count)]
            return (i, PackingScorer.bestFitGPUs(pod, nodes[i]))
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
