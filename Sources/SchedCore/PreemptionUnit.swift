/// What preemption stops as one: a lone task, or every running member of a gang (a gang is
/// stopped whole or not at all, so its lost work is that of all its members).
struct PreemptionUnit: Sendable, Hashable {
    var jobs: [JobID]
    var assignments: [Assignment]
    /// The members' elapsed run time, summed (ms).
    var lostWorkMs: Int64
    /// The newest member; among units losing the same work, the newest goes first.
    var newest: JobID

    /// Least work lost first, then the newest.
    func orderedBefore(_ other: PreemptionUnit) -> Bool {
        (lostWorkMs, other.newest) < (other.lostWorkMs, newest)
    }

    /// Releases the unit's tasks that sit on `node` (and whose PUs it holds).
    func release(from node: inout NodeState) {
        for a in assignments where a.node == node.id && node.canRelease(a) { node.release(a) }
    }

    /// Releases the unit's tasks from a snapshot (`index` maps node ids to positions).
    func release(from snapshot: inout ClusterSnapshot, index: [NodeID: Int]) {
        for a in assignments {
            guard let i = index[a.node], snapshot.nodes[i].canRelease(a) else { continue }
            snapshot.release(a, fromNodeAt: i)
        }
    }
}

extension PreemptionPlanner {
    /// The units a job of `priority` may stop: each lone evictable task, and each gang whose
    /// running members are all evictable (one member too young keeps the whole gang).
    static func units(_ running: [PreemptionCandidate], priority: Int, reclaim: Bool) -> [PreemptionUnit] {
        var out: [PreemptionUnit] = []
        var gangs: [JobID: [PreemptionCandidate]] = [:]
        for c in running {
            if let g = c.gang { gangs[g, default: []].append(c); continue }
            guard c.evictable(by: priority, reclaim: reclaim) else { continue }
            out.append(PreemptionUnit(jobs: [c.job], assignments: [c.assignment], lostWorkMs: c.elapsedMs, newest: c.job))
        }
        for (_, members) in gangs.sorted(by: { $0.key < $1.key }) {
            guard members.allSatisfy({ $0.evictable(by: priority, reclaim: reclaim) }) else { continue }
            let sorted = members.sorted { $0.job < $1.job }
            out.append(PreemptionUnit(jobs: sorted.map(\.job), assignments: sorted.map(\.assignment),
                                      lostWorkMs: sorted.reduce(0) { $0 + $1.elapsedMs }, newest: sorted.last!.job))
        }
        return out
    }
}
