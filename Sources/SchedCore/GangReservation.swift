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
    /// fleet as it would be after each successive end time. nil when it can never fit.
    public static func reservation(forGang request: ResourceRequest, count: Int, locality: NVLinkLocality?,
                                   gangPlacer: GangPlacer, in snapshot: ClusterSnapshot, running: [RunningTask],
                                   nowMs: Int64) -> GangReservation? {
        var scratch = snapshot
        var index: [NodeID: Int] = [:]
        for (i, n) in scratch.nodes.enumerated() { index[n.id] = i }
        func nodes() -> Set<NodeID>? {
            // Cheap bound first: enough free PUs and GPUs over all schedulable nodes.
            let free = scratch.nodes.filter(\.schedulable)
            guard free.reduce(0, { $0 + $1.freePUCount }) >= request.cpus * count,
                  request.gpus == 0 || request.sharesGPU || free.reduce(0, { $0 + $1.freeGPUCount }) >= request.gpus * count else { return nil }
            guard case .placed(let ds) = gangPlacer.place(request, count: count, in: scratch, locality: locality) else { return nil }
            return Set(ds.compactMap { d -> NodeID? in if case .placed(let a, _, _) = d { a.node } else { nil } })
        }
        if let n = nodes() { return GangReservation(nodes: n, startMs: nowMs) }
        let ending = running.filter { $0.endMs != nil && index[$0.assignment.node] != nil }.sorted { $0.endMs! < $1.endMs! }
        var k = 0
        while k < ending.count {
            let t = ending[k].endMs!
            // Every task ending at the same time goes together.
            while k < ending.count, ending[k].endMs! == t {
                let a = ending[k].assignment
                if let i = index[a.node], scratch.nodes[i].canRelease(a) { scratch.nodes[i].release(a) }
                k += 1
            }
            if let n = nodes() { return GangReservation(nodes: n, startMs: max(nowMs, t)) }
        }
        return nil
    }

    /// Whether a job running at most `timeLimitMs` from `nowMs` is over before `startMs`, and so may
    /// use reserved nodes without delaying the reservation.
    public static func endsBefore(_ startMs: Int64, timeLimitMs: Int64?, nowMs: Int64) -> Bool {
        guard let limit = timeLimitMs else { return false }
        return nowMs + limit <= startMs
    }
}
