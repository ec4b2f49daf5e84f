/// Which running tasks to stop so that a whole gang fits, and where its members then go.
public struct GangPreemptionPlan: Sendable, Hashable {
    /// Victims: every task of each unit chosen (a victim gang's members all appear).
    public var victims: [JobID]
    /// Work lost: the victims' elapsed run time, summed (ms).
    public var lostWorkMs: Int64
    /// Where each gang member goes once the victims have stopped, in member order.
    public var assignments: [Assignment]
    /// The nodes the gang will use (held for it while the victims stop).
    public var nodes: Set<NodeID> { Set(assignments.map(\.node)) }
}

extension PreemptionPlanner {
    /// Plans preemption for a gang of `count` tasks of `request` that fits nowhere now, so that
    /// **all** members fit at once (never part of them).
    ///
    /// Units (lone tasks, whole victim gangs) that the gang's `priority` may stop are taken least
    /// work first (then newest); the shortest such prefix after which `gangPlacer` places the whole
    /// gang is found by bisection, then units the placement turns out not to need are dropped again,
    /// most work first. nil when even stopping every evictable unit would not make the gang fit.
    public static func planGang(_ request: ResourceRequest, count: Int, locality: NVLinkLocality?, gangPlacer: GangPlacer,
                                priority: Int, in snapshot: ClusterSnapshot, running: [PreemptionCandidate],
                                reclaim: Bool = false) -> GangPreemptionPlan? {
        let units = Self.units(running, priority: priority, reclaim: reclaim).sorted { $0.orderedBefore($1) }
        guard !units.isEmpty, count > 0 else { return nil }
        var index: [NodeID: Int] = [:]
        for (i, n) in snapshot.nodes.enumerated() { index[n.id] = i }
        func placement(without chosen: [Int]) -> [Assignment]? {
            var scratch = snapshot
            for u in chosen { units[u].release(from: &scratch, index: index) }
            guard case .placed(let ds) = gangPlacer.place(request, count: count, in: scratch, locality: locality) else { return nil }
            return ds.compactMap { d -> Assignment? in if case .placed(let a, _, _) = d { a } else { nil } }
        }
        let all = Array(units.indices)
        guard placement(without: all) != nil else { return nil }
        // Shortest prefix (least work first) that makes room.
        var lo = 1, hi = units.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if placement(without: Array(all.prefix(mid))) != nil { hi = mid } else { lo = mid + 1 }
        }
        var chosen = Array(all.prefix(hi))
        guard var assignments = placement(without: chosen) else { return nil }
        // Drop the units the gang does not need after all, those losing most work first.
        for u in chosen.reversed() {
            let rest = chosen.filter { $0 != u }
            if let a = placement(without: rest) {
                chosen = rest
                assignments = a
            }
        }
        let victims = chosen.flatMap { units[$0].jobs }
        let lost = chosen.reduce(Int64(0)) { $0 + units[$1].lostWorkMs }
        return GangPreemptionPlan(victims: victims, lostWorkMs: lost, assignments: assignments)
    }
}
