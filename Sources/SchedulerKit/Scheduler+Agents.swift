import SchedControlPlane
import SchedCore
import SchedProtocol

/// The agent sessions' calls: each becomes one control-plane event.
extension Scheduler {
    /// Opens a link for a new agent connection; lines yielded to the stream go to that agent.
    /// `certifiedNode`: the node its node certificate names (it may act for that node only);
    /// nil for a cluster-admin token, which may act for any node.
    public func openLink(certifiedNode: NodeID? = nil) -> (UInt64, AsyncStream<String>) {
        let id = nextLinkID
        nextLinkID += 1
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        links[id] = continuation
        dispatch(.linkOpened(id, certifiedNode: certifiedNode))
        return (id, stream)
    }

    /// Handles REGISTER (see `ControlPlane.register`); throws what the agent is to be answered.
    public func register(_ r: Register, linkID: UInt64) throws(ErrorReply) {
        dispatch(.register(r, link: linkID))
        if let e = refusals.removeValue(forKey: linkID) { throw e }
    }

    public func heartbeat(_ h: Heartbeat, linkID: UInt64) throws(ErrorReply) {
        dispatch(.heartbeat(h, link: linkID))
        if let e = refusals.removeValue(forKey: linkID) { throw e }
    }

    public func taskStarted(_ s: TaskStarted, node: NodeID) { dispatch(.taskStarted(s, node: node)) }

    public func taskExited(_ e: TaskExited, node: NodeID) { dispatch(.taskExited(e, node: node)) }

    /// Counts an agent line the shell refused `forbidden` (the connection is then closed).
    public func agentLineForbidden() { dispatch(.agentLineForbidden) }

    /// Answers an agent's PING on its link.
    public func sendPong(to linkID: UInt64) { dispatch(.ping(link: linkID)) }

    /// The agent's connection closed. The node stays as it is until its heartbeat times out.
    public func linkClosed(_ linkID: UInt64, node: NodeID?) {
        links.removeValue(forKey: linkID)?.finish()
        dispatch(.linkClosed(linkID, node: node))
    }

    /// Marks nodes silent for longer than the timeout as down and fails the jobs they held,
    /// stops failed gangs and drops old finished jobs from memory. Call periodically.
    public func tick() { dispatch(.checkLiveness) }

    /// Stops running tasks that passed their time limit. Call periodically.
    public func enforceTimeLimits() { dispatch(.enforceTimeLimits) }

    /// Periodic retry of pending jobs (cheap when nothing is pending).
    public func schedulePendingFromTick() { dispatch(.schedulePass) }

    /// Drops from memory the finished jobs older than `minJobAgeSeconds`.
    public func evictFinishedJobs() { dispatch(.evictFinishedJobs) }
}
