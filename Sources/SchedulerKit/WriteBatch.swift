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
    /// `Scheduler.commit()` callers, resumed when this batch's commit attempt is over (true:
    /// it is durable).
    var attemptWaiters: [CheckedContinuation<Bool, Never>] = []

    enum Outgoing {
        /// A line for the agent connection `link` of a node; dropped if that connection has
        /// gone by delivery (the agent re-registers and reports its tasks afresh).
        case line(NodeID, link: UInt64, String)
        case resume([CheckedContinuation<JobInfo, Never>], JobInfo)
    }

    var hasWrites: Bool { !jobs.isEmpty || !nodes.isEmpty || !placements.isEmpty }
    var isEmpty: Bool { !hasWrites && outbox.isEmpty && attemptWaiters.isEmpty }
    /// Writes past which a batch is committed at once rather than at the end of the actor turn.
    static let maxWrites = 20_000
    var writeCount: Int { jobs.count + nodes.count + placements.count }

    /// A failed batch put back in front of the writes made since: its records first, a job or
    /// node written in both keeps its newer version, its deliveries go first.
    func followed(by later: WriteBatch) -> WriteBatch {
        var merged = self
        merged.jobs.merge(later.jobs) { _, newer in newer }
        merged.nodes.merge(later.nodes) { _, newer in newer }
        merged.placements += later.placements
        merged.outbox += later.outbox
        merged.attemptWaiters += later.attemptWaiters
        merged.commitQueued = later.commitQueued
        return merged
    }
}
