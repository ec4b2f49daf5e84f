import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedStore

/// Node certificates, for cluster admins: `NODE_REVOKE` (the store's revocation first, so that no
/// connection presenting them is accepted from then on, then the control plane closes the node's
/// connections and requeues its jobs) and `NODE_CERTS` (what the store recorded).
extension Scheduler {
    /// Revokes every certificate of `name`, closes its connections, puts its jobs back in the
    /// queue; answered once that is stored. Audited (by the control plane), refusals too.
    public func revokeNode(_ name: NodeID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> NodeRevoked {
        var serials: [String] = []
        // Only a cluster admin's request touches the store; anyone else's reaches the control
        // plane with nothing revoked, to be refused `forbidden` and audited there.
        if p.role == .clusterAdmin {
            do {
                serials = try store.revokeNodeCertificates(node: name, atMs: Self.wallMs())
            } catch {
                throw ErrorReply(.unavailable, "the certificates of node \(name) could not be revoked: \(error)")
            }
        }
        switch try await message(.revokeNode(name, serials: serials), as: p) {
        case .nodeRevoked(let r): return r
        case .accepted(let a): throw ErrorReply(.unavailable, "accepted, not stored yet: \(a.message)")
        default: throw ErrorReply(.internalError, "unexpected reply")
        }
    }

    /// The node certificates schedd issued (of one node when given), oldest first.
    public func nodeCertificates(_ q: NodeCertificateQuery, as p: Principal = .clusterAdmin) throws(ErrorReply) -> [NodeCertificateInfo] {
        guard p.role == .clusterAdmin else {
            throw ErrorReply(.forbidden, "NODE_CERTS needs role cluster-admin; this token's role is \(p.role.rawValue)")
        }
        do {
            return try store.nodeCertificates(node: q.node).map {
                NodeCertificateInfo(serial: $0.serial, node: $0.node, issuedAtMs: $0.issuedAtMs, expiresAtMs: $0.expiresAtMs,
                                    joinToken: $0.joinTokenID, revokedAtMs: $0.revokedAtMs)
            }
        } catch {
            throw ErrorReply(.unavailable, "cannot read node certificates: \(error)")
        }
    }
}
