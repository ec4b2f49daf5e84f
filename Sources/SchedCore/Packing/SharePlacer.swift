/// Filter → score → select for GPU-sharing tasks over a list of `ShareNode`s, under one
/// `PackingPolicy`. Used by `schedctl simulate` for every placement; pure.
///
/// Ties among the paper's policies are broken as the Kubernetes scheduler does (its
/// `selectHost`): walking the nodes in order, the k-th node tied with the best so far replaces it
/// with probability 1/k, drawn from `rng`. `random` picks a feasible node with one draw. BestFit
/// is min-max normalised to 0...100 over the feasible nodes first, as in the paper's simulator.
/// The product policy ranks by (score, tie-break, lowest index) and draws nothing.
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
            for i in feasible { raw.append(Int(scorer.score(pod, on: nodes[i], model: models[i]).score)) }
            if scorer.policy == .bestFit, let lo = raw.min(), let hi = raw.max() {
                for k in raw.indices { raw[k] = hi == lo ? 0 : (raw[k] - lo) * 100 / (hi - lo) }
            }
            var pick = 0, maxScore = raw[0], tied = 1
            for k in raw.indices.dropFirst() {
                if raw[k] > maxScore {
                    maxScore = raw[k]; pick = k; tied = 1
                } else if raw[k] == maxScore {
                    tied += 1
                    if rng.intn(tied) == 0 { pick = k }
                }
            }
            let i = feasible[pick]
            return (i, scorer.score(pod, on: nodes[i], model: models[i]).gpus)
        }
    }
}
