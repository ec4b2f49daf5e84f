/// A promise to a gang at the head of the queue that cannot start: these nodes, from this time on.
public struct GangReservation: Sendable, Hashable {
    public var nodes: Set<NodeID>
    public var startMs: Int64
    public init(nodes: Set<NodeID>, startMs: Int64) {
        self.nodes = nodes
        self.startMs = startMs
    }
}

extension Backfill {
    /// The earliest time at which a whole gang of `count` tasks of `request` could start if running
    /// tasks end when their time limits say, and the nodes it would use then. Tasks without a limit
    /// never end for this purpose. The gang is placed with `gangPlacer` (all members or none) on the
    /// fleet as it would be after successive end times, found by bisection over those times (the
    /// placement is close to monotone in released capacity; where it is not, the start found may
    /// be later than the earliest, never earlier). nil when it can never fit.
    public static func reservation(forGang request: ResourceRequest, count: Int, locality: NVLinkLocality?,
                                   gangPlacer: GangPlacer, in snapshot: ClusterSnapshot, running: [RunningTask],
                                   nowMs: Int64) -> GangReservation? {
        var index: [NodeID: Int] = [:]
        for (i, n) in snapshot.nodes.enumerated() { index[n.id] = i }
        func nodes(_ scratch: ClusterSnapshot) -> Set<NodeID>? {
            guard case .placed(let ds) = gangPlacer.place(request, count: count, in: scratch, locality: locality) else { return nil }
            return Set(ds.compactMap { d -> NodeID? in if case .placed(let a, _, _) = d { a.node } else { nil } })
        }
        if let n = nodes(snapshot) { return GangReservation(nodes: n, startMs: nowMs) }
        // Tasks that end, grouped by end time (all tasks ending at one time go together).
        let ending = running.filter { $0.endMs != nil && index[$0.assignment.node] != nil }.sorted { $0.endMs! < $1.endMs! }
        var groups: [(endMs: Int64, upTo: Int)] = []
        for (k, t) in ending.enumerated() {
            if groups.last?.endMs == t.endMs! { groups[groups.count - 1].upTo = k + 1 } else { groups.append((t.endMs!, k + 1)) }
        }
        guard !groups.isEmpty else { return nil }
        func released(upTo: Int) -> ClusterSnapshot {
            var scratch = snapshot
            for t in ending.prefix(upTo) {
                let i = index[t.assignment.node]!
                if scratch.nodes[i].canRelease(t.assignment) { scratch.release(t.assignment, fromNodeAt: i) }
            }
            return scratch
        }
        // Cheap bound first (enough free PUs and whole GPUs over schedulable nodes), found in one
        // pass; then the earliest group after which the whole gang places, by bisection.
        let needPUs = request.cpus * count, needGPUs = request.sharesGPU ? 0 : request.gpus * count
        var freePUs = 0, freeGPUs = 0
        for n in snapshot.nodes where n.schedulable { freePUs += n.freePUCount; freeGPUs += n.freeGPUCount }
        var lo = 0, k = 0
        while lo < groups.count {
            while k < groups[lo].upTo {
                let a = ending[k].assignment
                if snapshot.nodes[index[a.node]!].schedulable {
                    freePUs += a.pus.count
                    if a.gpuMilli == nil { freeGPUs += a.gpus.count }
                }
                k += 1
            }
            if freePUs >= needPUs && freeGPUs >= needGPUs { break }
            lo += 1
        }
        guard lo < groups.count, let last = nodes(released(upTo: groups[groups.count - 1].upTo)) else { return nil }
        var hi = groups.count - 1, best = last
        while lo < hi {
            let mid = (lo + hi) / 2
            if let n = nodes(released(upTo: groups[mid].upTo)) { hi = mid; best = n } else { lo = mid + 1 }
        }
        return GangReservation(nodes: best, startMs: max(nowMs, groups[hi].endMs))
    }

    /// Whether a job running at most `timeLimitMs` from `nowMs` is over before `startMs`, and so may
    /// use reserved nodes without delaying the reservation.
    public static func endsBefore(_ startMs: Int64, timeLimitMs: Int64?, nowMs: Int64) -> Bool {
        guard let limit = timeLimitMs else { return false }
        return nowMs + limit <= startMs
    }
}
