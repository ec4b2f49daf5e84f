import SchedCore
import SchedProtocol

/// The node authorizer (as Kubernetes' Node authorizer and NodeRestriction): an agent connection
/// authenticated by a node certificate acts for the node its certificate names, and for no other.
///
/// - `REGISTER` and `HEARTBEAT` naming another node are refused `forbidden`; the shell closes the
///   connection after the `ERR`. Task reports need no check of their own: they count for the node
///   the connection registered, which passed this check.
/// - A node connected with its certificate is taken over only by a connection with a certificate
///   for it (the agent reconnecting). A second connection with the cluster-admin token, or with
///   another node's certificate, is refused: nobody takes a node's name while it is connected.
/// - A connection with the cluster-admin token (nil `certifiedNode`) may act for any node, as
///   before node certificates: it registers any name and takes over a node connected the same way.
/// Every refusal is logged and counted (`STATUS_INFO.forbiddenAgentLines`).
extension ControlPlane {
    /// Why `link` may not register as `node`, or nil when it may.
    func registerRefusal(_ node: NodeID, link: LinkID) -> ErrorReply? {
        let certified = links.certifiedNode[link]
        if let certified, certified != node {
            return ErrorReply(.forbidden, "REGISTER: this connection's node certificate is for node \(certified); it may not register as \(node)")
        }
        if let current = links[node], current != link, certified != node, links.certifiedNode[current] == node {
            return ErrorReply(.forbidden, "REGISTER: node \(node) is connected with its node certificate; "
                + "another connection may register as \(node) only with that node's certificate")
        }
        return nil
    }

    /// Why `link` may not send a heartbeat for `node`, or nil when the certificate allows it.
    func heartbeatRefusal(_ node: NodeID, link: LinkID) -> ErrorReply? {
        guard let certified = links.certifiedNode[link], certified != node else { return nil }
        return ErrorReply(.forbidden, "HEARTBEAT: this connection's node certificate is for node \(certified), not \(node)")
    }

    /// Refuses an agent line `forbidden` (the shell answers it, then closes the connection),
    /// logs and counts it.
    mutating func forbid(_ link: LinkID, _ error: ErrorReply) {
        forbiddenAgentLines += 1
        let certified = links.certifiedNode[link].map(\.rawValue) ?? "(cluster-admin token)"
        log(.warning, "agent line forbidden; closing the connection", ["link": "\(link)", "certificate.node": "\(certified)",
                                                                       "reason": "\(error.message)"])
        actions.append(.refuse(link, error))
    }
}
