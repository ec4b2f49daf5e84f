import Foundation
import SchedControlPlane
import SchedProtocol
import SchedStore
import SchedTrust

/// Tokens: created, listed and revoked by the shell against the store's token table (the store
/// keeps only hashes). Who may do what:
/// - a cluster admin: every token, agent join tokens included;
/// - a tenant admin: client tokens of its own tenant, with a role up to `tenant-admin` and no
///   Unix user but its own (it cannot mint a token that runs jobs as someone else);
/// - anyone else: `ERR forbidden`.
/// Creating and revoking are written to the audit log.
extension Scheduler {
    /// An agent join token lives an hour unless asked otherwise, and serves one agent.
    static let joinTokenSeconds = 3600

    func createToken(_ r: TokenCreate, as p: Principal) throws(ErrorReply) -> TokenCreated {
        let kind: TokenKind
        switch r.kind {
        case "client": kind = .client
        case "agent": kind = .agent
        default: throw ErrorReply(.invalidSpec, "kind: expected client or agent, got '\(r.kind)'")
        }
        var tenant = r.tenant, role = r.role
        if kind == .agent {
            guard p.role == .clusterAdmin else { throw denied("TOKEN_CREATE of an agent token needs role cluster-admin", p) }
            guard r.uses.map({ $0 >= 1 }) ?? true else { throw ErrorReply(.invalidSpec, "uses: must be at least 1") }
            tenant = nil
            role = nil
        } else {
            guard let wanted = role else { throw ErrorReply(.invalidSpec, "role: a client token needs one") }
            switch p.role {
            case .clusterAdmin:
                if wanted != .clusterAdmin, tenant == nil { throw ErrorReply(.invalidSpec, "tenant: a \(wanted.rawValue) token needs one") }
                if wanted == .clusterAdmin { tenant = nil }
            case .tenantAdmin:
                guard wanted <= .tenantAdmin else { throw denied("a tenant admin creates tokens up to role tenant-admin", p) }
                guard tenant == nil || tenant == p.tenant else { throw denied("a tenant admin creates tokens for its own tenant only", p) }
                guard r.user == nil || r.user == p.user else { throw denied("a tenant admin creates tokens for its own Unix user only", p) }
                tenant = p.tenant
            default:
                throw denied("TOKEN_CREATE needs role tenant-admin or cluster-admin; this token's role is \(p.role.rawValue)", p)
            }
            if let t = tenant, let problem = JobSpec(command: ["true"], tenant: t).problems().first(where: { $0.field == "tenant" }) {
                throw ErrorReply(.invalidSpec, "tenant: \(problem.message)")
            }
        }
        guard r.ttlSeconds.map({ $0 > 0 }) ?? true else { throw ErrorReply(.invalidSpec, "ttlSeconds: must be positive") }
        let now = Self.wallMs()
        let ttl = r.ttlSeconds ?? (kind == .agent ? Self.joinTokenSeconds : nil)
        let secret = BearerToken.generate()
        let stored: StoredToken
        do {
            stored = try store.insertToken(StoredToken(hash: secret.hash, kind: kind, tenant: tenant, role: role?.rawValue,
                                                       unixUser: kind == .agent ? nil : r.user, createdAtMs: now,
                                                       expiresAtMs: ttl.map { now + Int64($0) * 1000 },
                                                       usesLeft: kind == .agent ? (r.uses ?? 1) : nil))
        } catch {
            throw ErrorReply(.unavailable, "token not stored: \(error)")
        }
        audit("TOKEN_CREATE", "token \(stored.id) (\(kind.rawValue)\(tenant.map { ", tenant " + $0 } ?? ""))", by: p, outcome: "ok")
        return TokenCreated(token: secret.secret, info: Self.info(stored))
    }

    func listTokens(as p: Principal) throws(ErrorReply) -> [TokenInfo] {
        guard p.role >= .tenantAdmin else { throw ErrorReply(.forbidden, "TOKENS needs role tenant-admin; this token's role is \(p.role.rawValue)") }
        let all: [StoredToken]
        do { all = try store.tokens() } catch { throw ErrorReply(.unavailable, "cannot read tokens: \(error)") }
        return all.filter { p.role == .clusterAdmin || ($0.kind == .client && $0.tenant == p.tenant) }.map(Self.info)
    }

    func revokeToken(_ id: Int64, as p: Principal) throws(ErrorReply) {
        guard p.role >= .tenantAdmin else { throw denied("TOKEN_REVOKE needs role tenant-admin; this token's role is \(p.role.rawValue)", p) }
        let target: StoredToken?
        do { target = try store.tokens().first { $0.id == id } } catch { throw ErrorReply(.unavailable, "cannot read tokens: \(error)") }
        // Another tenant's token, like another tenant's job, is not found.
        guard let target, p.role == .clusterAdmin || (target.kind == .client && target.tenant == p.tenant) else {
            audit("TOKEN_REVOKE", "token \(id)", by: p, outcome: WireErrorCode.notFound.rawValue)
            throw ErrorReply(.notFound, "no token \(id)")
        }
        do { _ = try store.revokeToken(id: id, atMs: Self.wallMs()) } catch { throw ErrorReply(.unavailable, "token not revoked: \(error)") }
        audit("TOKEN_REVOKE", "token \(id)", by: p, outcome: "ok")
    }

    private func denied(_ why: String, _ p: Principal) -> ErrorReply {
        audit("TOKEN_CREATE", "token", by: p, outcome: WireErrorCode.forbidden.rawValue)
        return ErrorReply(.forbidden, why)
    }

    /// Writes an audit record through the control plane (stored with its next batch).
    func audit(_ verb: String, _ object: String, by p: Principal, outcome: String) {
        dispatch(.audit(verb: verb, object: object, by: p, outcome: outcome))
    }

    static func info(_ t: StoredToken) -> TokenInfo {
        TokenInfo(id: t.id, kind: t.kind.rawValue, tenant: t.tenant, role: t.role.flatMap(Role.init), user: t.unixUser,
                  createdAtMs: t.createdAtMs, expiresAtMs: t.expiresAtMs, usesLeft: t.usesLeft, revokedAtMs: t.revokedAtMs)
    }
}
