import Foundation
import SchedCore
import SchedNet
import SchedProtocol
import SchedStore
import SchedTrust

/// Who a connection speaks for, once its HELLO was accepted: the token it presented (by id and
/// what the store says it stands for), the node its certificate was issued to, or both. Client
/// sessions authorize every request by its `principal` (role, tenant, Unix user); agent sessions
/// act for `certifiedNode` only when there is one (the node authorizer), for any node with a
/// cluster-admin token; a join token only joins.
public struct ConnectionIdentity: Sendable, Hashable {
    /// The token's id; nil when the peer authenticated by its node certificate alone.
    public var tokenID: Int64?
    /// The token's kind; nil without a token.
    public var kind: TokenKind?
    public var tenant: String?
    public var role: String?
    public var unixUser: String?
    /// The peer's verified certificate; nil when it sent none.
    public var certificate: PeerCertificate?
    /// The node the peer's certificate was issued to (by its serial, in the store); nil without one.
    public var certifiedNode: NodeID?
    /// Whether the token's tenant may run tasks as root (its `allow-root`).
    public var tenantMayRunAsRoot = false

    public init(tokenID: Int64? = nil, kind: TokenKind? = nil, tenant: String? = nil, role: String? = nil,
                unixUser: String? = nil, certificate: PeerCertificate? = nil, certifiedNode: NodeID? = nil) {
        self.tokenID = tokenID
        self.kind = kind
        self.tenant = tenant
        self.role = role
        self.unixUser = unixUser
        self.certificate = certificate
        self.certifiedNode = certifiedNode
    }

    /// What the control plane authorizes requests by. The admin token is the cluster admin; a
    /// client token has its tenant and role (a role schedd does not know reads as `viewer`); a join
    /// token and a node certificate are viewers (they send no client requests: see `ConnectionHandler`).
    public var principal: Principal {
        switch kind {
        case .admin:
            return Principal(tokenID: "admin", tenant: nil, role: .clusterAdmin, user: unixUser, mayRunAsRoot: true)
        case .client:
            let r = role.flatMap(Role.init) ?? .viewer
            return Principal(tokenID: "\(tokenID ?? 0)", tenant: r == .clusterAdmin ? nil : tenant, role: r,
                             user: unixUser, mayRunAsRoot: r == .clusterAdmin || tenantMayRunAsRoot)
        case .agent:
            return Principal(tokenID: "\(tokenID ?? 0)", tenant: nil, role: .viewer)
        case nil:
            return Principal(tokenID: "node:\(certifiedNode?.rawValue ?? "?")", tenant: nil, role: .viewer)
        }
    }

    /// An agent join token: the connection may only `JOIN`.
    public var isJoinToken: Bool { kind == .agent }
    /// A cluster admin's token (the admin token, or a client token with role cluster-admin): as an
    /// agent it may act for any node.
    public var isClusterAdmin: Bool { kind != nil && kind != .agent && principal.role == .clusterAdmin }
}

/// Checks what a HELLO presents against the store: its token (by SHA-256), and the serial of the
/// certificate TLS verified, which must be a node certificate schedd issued and has not revoked
/// (the TLS layer checks only that the cluster CA signed it). The store is read directly (a pool
/// reader), not through the scheduler actor.
struct Authenticator: Sendable {
    let store: any SchedulerStore
    /// Tenants whose tokens may run tasks as root (`--tenant NAME=allow-root`).
    var rootTenants: Set<String> = []

    /// The identity, or the `ERR unauthenticated` to answer. The token itself is never logged
    /// or put in a message.
    func authenticate(_ hello: Hello, peer: LinePeer, now: Date = Date()) -> Result<ConnectionIdentity, ErrorReply> {
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        var certified: NodeID?
        if let certificate = peer.certificate {
            switch nodeCertificate(certificate, nowMs: nowMs) {
            case .success(let node): certified = node
            case .failure(let e): return .failure(e)
            }
        }
        guard let presented = hello.token, !presented.isEmpty else {
            if let certified { return .success(ConnectionIdentity(certificate: peer.certificate, certifiedNode: certified)) }
            return .failure(ErrorReply(.unauthenticated,
                "HELLO carries no token; schedd wrote a cluster-admin token to admin.token in its state directory"))
        }
        let stored: StoredToken?
        do {
            stored = try store.token(hash: BearerToken.hash(of: presented))
        } catch {
            return .failure(ErrorReply(.unauthenticated, "cannot check the token: \(error)"))
        }
        guard let token = stored else { return .failure(ErrorReply(.unauthenticated, "unknown token")) }
        let what = token.kind == .agent ? "join token" : "token"
        if token.revokedAtMs != nil { return .failure(ErrorReply(.unauthenticated, "\(what) \(token.id) was revoked")) }
        if let e = token.expiresAtMs, nowMs >= e {
            return .failure(ErrorReply(.unauthenticated, "\(what) \(token.id) expired"
                + (token.kind == .agent ? "; create another: schedctl token create --agent" : "")))
        }
        if let u = token.usesLeft, u <= 0 {
            return .failure(ErrorReply(.unauthenticated, "\(what) \(token.id) is used up"
                + (token.kind == .agent ? "; create another: schedctl token create --agent [--uses N]" : "")))
        }
        var identity = ConnectionIdentity(tokenID: token.id, kind: token.kind, tenant: token.tenant, role: token.role,
                                          unixUser: token.unixUser, certificate: peer.certificate, certifiedNode: certified)
        identity.tenantMayRunAsRoot = token.tenant.map(rootTenants.contains) ?? false
        return .success(identity)
    }

    /// The node a verified certificate was issued to, if the store has it and it is live.
    func nodeCertificate(_ certificate: PeerCertificate, nowMs: Int64) -> Result<NodeID, ErrorReply> {
        let serial = certificate.serialNumber
        let stored: StoredNodeCertificate?
        do {
            stored = try store.nodeCertificate(serial: serial)
        } catch {
            return .failure(ErrorReply(.unauthenticated, "cannot check the certificate: \(error)"))
        }
        guard let stored else {
            return .failure(ErrorReply(.unauthenticated, "certificate \(serial) was not issued to a node by this schedd"))
        }
        if stored.revokedAtMs != nil {
            return .failure(ErrorReply(.unauthenticated,
                "the node certificate of \(stored.node) (serial \(serial)) was revoked; join again with a new join token"))
        }
        if nowMs >= stored.expiresAtMs {
            return .failure(ErrorReply(.unauthenticated,
                "the node certificate of \(stored.node) (serial \(serial)) expired; join again with a new join token"))
        }
        guard certificate.commonName == stored.node.rawValue else {
            return .failure(ErrorReply(.unauthenticated, "certificate \(serial) does not name the node it was issued to"))
        }
        return .success(stored.node)
    }

    /// Checks a connection's node certificate again (after its link opened, so that a revocation
    /// that raced with the HELLO is not missed): nil when it is still live, else the refusal.
    func recheck(_ identity: ConnectionIdentity, now: Date = Date()) -> ErrorReply? {
        guard let certificate = identity.certificate, identity.certifiedNode != nil else { return nil }
        if case .failure(let e) = nodeCertificate(certificate, nowMs: Int64(now.timeIntervalSince1970 * 1000)) { return e }
        return nil
    }
}
