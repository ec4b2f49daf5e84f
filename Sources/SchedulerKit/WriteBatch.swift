import SchedCore
import SchedProtocol
import SchedStore

/// Group commit: the writes made since the last commit, and everything that must wait for
/// them to be durable (lines to agents, replies to `WAIT`). Committed in one store transaction.
struct WriteBatch {
    /// Latest version of each changed job (a job changed twice is written once).
    var jobs: [JobID: JobInfo] = [:]
    var nodes: [NodeID: StoredNode] = [:]
    var placements: [PlacementRecord] = []
    /// In order: what to deliver once the batch is durable.
    var outbox: [Outgoing] = []
    /// A commit task is queued on the actor.
    var commitQueued = false

    enum Outgoing {
        case line(NodeID, String)
        case resume([CheckedContinuation<JobInfo, Never>], JobInfo)
    }

    var hasWrites: Bool { !jobs.isEmpty || !nodes.isEmpty || !placements.isEmpty }
    var isEmpty: Bool { !hasWrites && outbox.isEmpty }
    /// Writes past which a batch is committed at once rather than at the end of the actor turn.
    static let maxWrites = 20_000
    var writeCount: Int { jobs.count + nodes.count + placements.count }
}
