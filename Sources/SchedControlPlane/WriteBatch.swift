import SchedCore
import SchedProtocol

/// Group commit: the writes made since the last commit, and everything that must wait for
/// them to be durable (lines to agents, client replies). Committed in one store transaction.
struct WriteBatch {
    /// Latest version of each changed job (a job changed twice is written once).
    var jobs: [JobID: JobInfo] = [:]
    var nodes: [NodeID: StoredNode] = [:]
    var placements: [PlacementRecord] = []
    /// Wall-clock ms of each placement record (the shell writes its `time`).
    var placementWallMs: [Int64] = []
    /// Audit records of the requests made since the last commit, in order.
    var audit: [AuditRecord] = []
    /// In order: what to deliver once the batch is durable.
    var outbox: [Outgoing] = []

    enum Outgoing {
        /// A line for the agent connection `link` of a node; dropped if that connection no
        /// longer serves the node by delivery (the agent re-registers and reports afresh).
        case line(NodeID, link: LinkID, Message)
        /// A client reply that reports these writes: sent once they are durable.
        case reply(RequestID, ControlReply)
        /// A client reply sent when this batch's commit attempt is over, stored or not (reads:
        /// they never report what a later failure could take back as confirmed).
        case afterAttempt(RequestID, ControlReply)
        /// `.ok` once durable; `ERR unavailable` when the attempt fails.
        case barrier(RequestID)
    }

    var hasWrites: Bool { !jobs.isEmpty || !nodes.isEmpty || !placements.isEmpty || !audit.isEmpty }
    var isEmpty: Bool { !hasWrites && outbox.isEmpty }
    /// Writes past which a batch is committed at once rather than after the group delay.
    static let maxWrites = 20_000
    var writeCount: Int { jobs.count + nodes.count + placements.count + audit.count }

    /// A failed batch put back in front of the writes made since: its records first, a job or
    /// node written in both keeps its newer version, its deliveries go first.
    func followed(by later: WriteBatch) -> WriteBatch {
        var merged = self
        merged.jobs.merge(later.jobs) { _, newer in newer }
        merged.nodes.merge(later.nodes) { _, newer in newer }
        merged.placements += later.placements
        merged.placementWallMs += later.placementWallMs
        merged.audit += later.audit
        merged.outbox += later.outbox
        return merged
    }

    /// The store's share of the batch.
    var commitBatch: CommitBatch {
        CommitBatch(jobs: Array(jobs.values), nodes: Array(nodes.values), placements: placements,
                    placementWallMs: placementWallMs, audit: audit)
    }
}
