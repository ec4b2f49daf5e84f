/// The rank, select and explain phases of `Placer.decide`.
extension Placer {
    /// Preferred tier first, then highest score; ties broken by snapshot order (node id).
    @inline(__always)
    static func better(_ a: Candidate, _ b: Candidate) -> Bool {
        (b.tier, b.score, a.node) < (a.tier, a.score, b.node)
    }

    /// Orders the candidates best first. Only the first is needed unless its pick fails, so a
    /// long list is sorted lazily: the best four first, then the rest.
    static func rank(_ candidates: inout [Candidate]) {
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
    }

    /// The in-node pick (PUs, NUMA nodes, GPUs) on the best candidate, then the next if it fails.
    /// A candidate whose pick fails is counted as `noTopologyFit`.
    func select(_ search: inout CandidateSearch) -> (rank: Int, assignment: Assignment, topologyMisses: Int)? {
        var misses = 0
        for (rank, c) in search.candidates.enumerated() {
            if let a = c.assignment ?? CPUAllocator.pick(search.request, on: search.nodes[c.node]) {
                return (rank, a, misses)
            }
            search.tally.reject(.noTopologyFit, request: search.request, node: search.nodes[c.node])
            misses += 1
        }
        return nil
    }

    /// The decision with its explanation: counts, rejections, the top candidates and, when
    /// placed, the winner's utilisation after.
    func explain(_ search: CandidateSearch, chosen: (rank: Int, assignment: Assignment, topologyMisses: Int)?) -> PlacementDecision {
        let candidates = search.candidates, nodes = search.nodes, request = search.request
        let top = chosen.map { ch in
            candidates[ch.rank..<min(candidates.count, ch.rank + 3)].map { CandidateScore(node: nodes[$0.node].id, score: $0.score) }
        } ?? []
        var explanation = PlacementExplanation(policy: policy.rawValue, nodesEvaluated: nodes.count,
                                               nodesFeasible: candidates.count - (chosen?.topologyMisses ?? candidates.count),
                                               rejections: search.tally.counts(for: request), topCandidates: top)
        explanation.nodesNotExamined = search.notExamined > 0 ? search.notExamined : nil
        guard let chosen else { return .unplaceable(explanation) }
        let best = candidates[chosen.rank]
        let u = SchedulingPolicy.utilisationAfter(request, nodes[best.node])
        explanation.chosen = ScoreBreakdown(tier: best.tier, cpuPercentAfter: u.cpu,
                                            memoryPercentAfter: u.memory, gpuPercentAfter: u.gpu)
        return .placed(chosen.assignment, score: best.score, explanation)
    }
}
