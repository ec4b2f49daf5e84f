import SchedCore
import SchedProtocol

/// schedd's view of one node: what is stored plus connection and liveness.
struct NodeEntry {
    var stored: StoredNode
    /// Resources in use, derived from the active jobs placed on the node.
    var state: NodeState
    /// Identifies the agent connection currently serving the node, if any.
    var linkID: UInt64?
    /// Registered on the current connection (reconciled).
    var registered = false
    /// Marked down (timeout or disconnect past the timeout).
    var down = false
    /// Milliseconds (monotonic) of the last sign of life, or of schedd's start for nodes loaded from the store.
    var lastSeenMs: Int64
    /// Wall-clock ms of the last heartbeat, for display.
    var lastHeartbeatWallMs: Int64?
    var freeMemory: [NUMAMemory]?

    /// `classes` gives the node the class it shares with nodes of its kind.
    init(stored: StoredNode, nowMs: Int64, classes: inout NodeClassRegistry) {
        self.stored = stored
        self.state = classes.node(id: stored.name, topology: stored.topology, labels: stored.labels ?? [:])
        self.lastSeenMs = nowMs
    }

    var status: NodeStatus {
        if down || linkID == nil { return .down }
        if !registered { return .registered }
        if stored.drained { return state.usedPUs.isEmpty && state.usedGPUs.isEmpty ? .drained : .draining }
        return .ready
    }

    /// The node as the core sees it for one decision.
    var snapshotState: NodeState {
        var s = state
        s.schedulable = status == .ready
        s.unschedulableReason = stored.drained && status != .down ? .draining : .notReady
        return s
    }
}
