import SchedCore
import SchedProtocol

/// `NODE_REVOKE`: a node leaves the cluster for good. The shell has revoked its certificates in
/// the store (so no connection presenting one is accepted again); here every connection that acts
/// for the node closes, the node shows `down`, and its jobs are handled as those of a lost node,
/// except that a node revoked is known to be gone, so its jobs go back to the queue at once:
/// - a plain job, a service replica or a job array member becomes `pending` again, its resources
///   freed (reason `requeued: node NAME was revoked`);
/// - a gang member fails (a gang runs whole or not at all), which stops its gang;
/// - a job whose cancel, time limit, preemption or replacement was already under way ends the
///   way it would have when its task ended (`finish`).
/// The reply confirms once those changes are stored.
extension ControlPlane {
    mutating func revokeNode(_ name: NodeID, serials: [String]) throws(ErrorReply) -> NodeRevoked {
        let certified = links.certified(for: name)
        guard nodes[name] != nil || !serials.isEmpty || !certified.isEmpty else { throw ErrorReply(.notFound, "no node '\(name)'") }
        var closing = Set(certified)
        if let link = links.removeValue(forKey: name) { closing.insert(link) }
        for link in closing.sorted() {
            links.close(link)
            actions.append(.closeLink(link))
        }
        if var n = nodes[name] {
            n.linkID = nil
            n.registered = false
            n.down = true
            nodes[name] = n
        }
        var requeued: [JobID] = [], ended: [JobID] = []
        let why = "node \(name) was revoked"
        for var job in jobs.values.filter({ $0.state.isActive && $0.node == name }).sorted(by: { $0.id < $1.id }) {
            if job.spec.isGang || job.cancelRequested == true || job.timedOut == true || job.preemptedBy != nil
                || job.replacing == true || job.gangStoppedBy != nil {
                finish(&job, exit: TaskExit(error: "lost: \(why)"))
                if job.state == .pending { requeued.append(job.id) } else { ended.append(job.id) }
                continue
            }
            if let a = job.assignment { nodes[name]?.state.release(a) }
            job.state = .pending
            job.assignment = nil
            job.hostBinding = nil
            job.pid = nil
            job.reason = "requeued: \(why)"
            save(job)
            requeued.append(job.id)
        }
        log(.warning, "node revoked", ["node.id": "\(name)", "certificates": "\(serials.count)",
                                       "connections.closed": "\(closing.count)", "jobs.requeued": "\(requeued.count)",
                                       "jobs.ended": "\(ended.count)"])
        stopFailedGangs()
        requestPass()
        return NodeRevoked(node: name, serials: serials, requeued: requeued, ended: ended)
    }
}
