/// A running task that preemption may consider.
public struct PreemptionCandidate: Sendable, Hashable {
    public var job: JobID
    public var assignment: Assignment
    public var priority: Int
    public var preemptible: Bool
    /// How long it has run, in milliseconds (the caller's clock; the core has none).
    public var elapsedMs: Int64
    /// It may not be preempted before running this long.
    public var minRuntimeMs: Int64
    /// Its tenant uses more than its guaranteed quota: the task runs on borrowed capacity.
    public var borrowing: Bool
    /// The gang it belongs to (its array's first job id), if any: a gang is stopped whole or not at all.
    public var gang: JobID?
    public init(job: JobID, assignment: Assignment, priority: Int, preemptible: Bool, elapsedMs: Int64, minRuntimeMs: Int64,
                borrowing: Bool = false, gang: JobID? = nil) {
        self.job = job
        self.assignment = assignment
        self.priority = priority
        self.preemptible = preemptible
        self.elapsedMs = elapsedMs
        self.minRuntimeMs = minRuntimeMs
        self.borrowing = borrowing
        self.gang = gang
    }
    /// Whether a job of `priority` may preempt this one now. With `reclaim` (the preemptor's
    /// tenant is within its guaranteed quota) any task on borrowed capacity may go, whatever its
    /// priority or preemptible flag; the minimum runtime always holds.
    public func evictable(by priority: Int, reclaim: Bool = false) -> Bool {
        guard elapsedMs >= minRuntimeMs else { return false }
        if reclaim && borrowing { return true }
        return preemptible && self.priority < priority
    }
}

/// Which running tasks to stop so a higher-priority request fits, losing the least work.
public struct PreemptionPlan: Sendable, Hashable {
    public var node: NodeID
    /// Victims, in the order they were chosen.
    public var victims: [JobID]
    /// Work lost: the victims' elapsed run time, summed (ms).
    public var lostWorkMs: Int64
    /// Where the request goes once the victims have stopped.
    public var assignment: Assignment
}

/// Plans preemptions. Pure: the caller supplies the snapshot and the running tasks.
///
/// On each node that is schedulable, the request's filters are checked as if every evictable
/// task there had already stopped; if it could fit, victims are taken least-work-first (shortest
/// elapsed time, then newest job) until the in-node pick succeeds. Among nodes, the plan with the
/// least lost work wins, then the fewest victims, then the smallest node id. Tasks that are not
/// preemptible, not of lower priority, or younger than their minimum runtime are never chosen.
public enum PreemptionPlanner {
    public static func plan(_ request: ResourceRequest, priority: Int, in snapshot: ClusterSnapshot,
                            running: [PreemptionCandidate], reclaim: Bool = false) -> PreemptionPlan? {
        let units = Self.units(running, priority: priority, reclaim: reclaim)
        var byNode: [NodeID: [Int]] = [:]
        for (i, u) in units.enumerated() {
            for n in Set(u.assignments.map(\.node)) { byNode[n, default: []].append(i) }
        }
        let placer = Placer()
        var best: PreemptionPlan?
        for node in snapshot.nodes {
            guard var victims = byNode[node.id], !victims.isEmpty else { continue }
            // Optimistic check: with every evictable task gone, would the request pass the filters?
            var emptied = node
            for v in victims { units[v].release(from: &emptied) }
            guard placer.filter(request, on: emptied) == nil else { continue }
            victims.sort { units[$0].orderedBefore(units[$1]) }
            var state = node
            var chosen: [JobID] = []
            var lost: Int64 = 0
            for v in victims {
                units[v].release(from: &state)
                chosen.append(contentsOf: units[v].jobs)
                lost += units[v].lostWorkMs
                if placer.filter(request, on: state) == nil, let a = CPUAllocator.pick(request, on: state) {
                    let plan = PreemptionPlan(node: node.id, victims: chosen, lostWorkMs: lost, assignment: a)
                    if let b = best, (b.lostWorkMs, b.victims.count, b.node) <= (lost, chosen.count, node.id) { break }
                    best = plan
                    break
                }
            }
        }
        return best
    }
}

extension NodeState {
    /// Whether `a`'s PUs are all held here (so releasing it is meaningful).
    func canRelease(_ a: Assignment) -> Bool { a.pus.isSubset(of: usedPUs) }
}
