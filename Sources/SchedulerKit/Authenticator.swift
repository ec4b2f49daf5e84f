import Foundation
import SchedNet
import SchedProtocol
import SchedStore
import SchedTrust

/// Who a connection speaks for, once its HELLO was accepted: the token it presented (by id and
/// what the store says it stands for) and the certificate TLS verified, if it sent one. Sessions
/// hold it; a later phase decides by it what a client may do (roles, tenants) and which node an
/// agent may register as.
public struct Principal: Sendable, Hashable {
    public var tokenID: Int64
    public var kind: TokenKind
    public var tenant: String?
    public var role: String?
    public var unixUser: String?
    /// The peer's verified certificate (a node certificate, later); nil when it sent none.
    public var certificate: PeerCertificate?
}

/// Checks the token a HELLO carries against the token hashes in the store. The store is read
/// directly (a pool reader), not through the scheduler actor.
struct Authenticator: Sendable {
    let store: any SchedulerStore

    /// The principal, or the `ERR unauthenticated` to answer. The token itself is never logged
    /// or put in a message.
    func authenticate(_ hello: Hello, peer: LinePeer, now: Date = Date()) -> Result<Principal, ErrorReply> {
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
        return .success(Principal(tokenID: token.id, kind: token.kind, tenant: token.tenant, role: token.role,
                                  unixUser: token.unixUser, certificate: peer.certificate))
    }
}
