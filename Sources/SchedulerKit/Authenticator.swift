import Foundation
import SchedNet
import SchedProtocol
import SchedStore
import SchedTrust

/// Who a connection speaks for, once its HELLO was accepted: the token it presented (by id and
/// what the store says it stands for) and the certificate TLS verified, if it sent one. Client
/// sessions authorize every request by its `principal` (role, tenant, Unix user); a later phase
/// decides by the certificate which node an agent may register as.
public struct ConnectionIdentity: Sendable, Hashable {
    public var tokenID: Int64
    public var kind: TokenKind
    public var tenant: String?
    public var role: String?
    public var unixUser: String?
    /// The peer's verified certificate (a node certificate, later); nil when it sent none.
    public var certificate: PeerCertificate?
    /// Whether the token's tenant may run tasks as root (its `allow-root`).
    public var tenantMayRunAsRoot = false

    /// What the control plane authorizes requests by. The admin token is the cluster admin; a
    /// client token has its tenant and role (a role schedd does not know reads as `viewer`).
    public var principal: Principal {
        switch kind {
        case .admin:
            return Principal(tokenID: "admin", tenant: nil, role: .clusterAdmin, user: unixUser, mayRunAsRoot: true)
        case .client, .agent:
            let r = role.flatMap(Role.init) ?? .viewer
            return Principal(tokenID: "\(tokenID)", tenant: r == .clusterAdmin ? nil : tenant, role: kind == .agent ? .viewer : r,
                             user: unixUser, mayRunAsRoot: r == .clusterAdmin || tenantMayRunAsRoot)
        }
    }
}

/// Checks the token a HELLO carries against the token hashes in the store. The store is read
/// directly (a pool reader), not through the scheduler actor.
struct Authenticator: Sendable {
    let store: any SchedulerStore
    /// Tenants whose tokens may run tasks as root (`--tenant NAME=allow-root`).
    var rootTenants: Set<String> = []

    /// The principal, or the `ERR unauthenticated` to answer. The token itself is never logged
    /// or put in a message.
    func authenticate(_ hello: Hello, peer: LinePeer, now: Date = Date()) -> Result<ConnectionIdentity, ErrorReply> {
        guard let presented = hello.token, !presented.isEmpty else {
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
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        if token.revokedAtMs != nil { return .failure(ErrorReply(.unauthenticated, "token \(token.id) was revoked")) }
        if let e = token.expiresAtMs, nowMs >= e { return .failure(ErrorReply(.unauthenticated, "token \(token.id) expired")) }
        if let u = token.usesLeft, u <= 0 { return .failure(ErrorReply(.unauthenticated, "token \(token.id) is used up")) }
        var identity = ConnectionIdentity(tokenID: token.id, kind: token.kind, tenant: token.tenant, role: token.role,
                                  unixUser: token.unixUser, certificate: peer.certificate)
        identity.tenantMayRunAsRoot = token.tenant.map(rootTenants.contains) ?? false
        return .success(identity)
    }
}
