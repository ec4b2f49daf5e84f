/// A running task as backfill sees it: where it sits and when its time limit ends it.
public struct RunningTask: Sendable, Hashable {
    public var assignment: Assignment
    /// Wall-clock ms at which its time limit runs out; nil when it has no limit.
    public var endMs: Int64?
    public init(assignment: Assignment, endMs: Int64?) {
        self.assignment = assignment
        self.endMs = endMs
    }
}

/// A promise to the first job that cannot start: this node, from this time on.
public struct Reservation: Sendable, Hashable {
    public var node: NodeID
    public var startMs: Int64
    public init(node: NodeID, startMs: Int64) {
        self.node = node
        self.startMs = startMs
    }
}

/// EASY backfill (as in Slurm's backfill and Maui): the first job that cannot start gets a
/// reservation at its earliest start, computed from running tasks' time limits; later jobs may use
/// the reserved node only if their own time limit ends them before that start.
public enum Backfill {
    /// The earliest time and node at which `request` could start if running tasks end when their
    /// time limits say. Tasks without a limit never end for this purpose. Ties: earliest start,
    /// then node id. nil when no node can ever take the request.
    public static func reservation(for request: ResourceRequest, in snapshot: ClusterSnapshot,
                                   running: [RunningTask], nowMs: Int64) -> Reservation? {
        var byNode: [NodeID: [RunningTask]] = [:]
        for r in running { byNode[r.assignment.node, default: []].append(r) }
        let placer = Placer()
        var best: Reservation?
        for node in snapshot.nodes {
            guard node.schedulable else { continue }
            if placer.check(request, on: node).isSuccess {
                return Reservation(node: node.id, startMs: nowMs)   // fits now: nothing to reserve
            }
            let ending = (byNode[node.id] ?? []).filter { $0.endMs != nil }.sorted { ($0.endMs!, $0.assignment.pus.description) < ($1.endMs!, $1.assignment.pus.description) }
            var state = node
            for r in ending {
                state.release(r.assignment)
                if placer.check(request, on: state).isSuccess {
                    let start = max(nowMs, r.endMs!)
                    if best == nil || (start, node.id) < (best!.startMs, best!.node) { best = Reservation(node: node.id, startMs: start) }
                    break
                }
            }
        }
        return best
    }

    /// Whether a job placed on `node`, running at most `timeLimitMs` from `nowMs`, keeps the
    /// reservation: another node, or finished before the reserved start.
    public static func respects(_ r: Reservation, node: NodeID, timeLimitMs: Int64?, nowMs: Int64) -> Bool {
        guard node == r.node else { return true }
        guard let limit = timeLimitMs else { return false }
        return nowMs + limit <= r.startMs
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
