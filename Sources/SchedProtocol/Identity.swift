/// What a token lets its holder do. Each role includes the ones before it.
/// - `viewer`: read its tenant's jobs, placement records and explanations, nodes and status;
/// - `submitter`: also submit jobs to its tenant, and cancel or update the jobs it submitted;
/// - `tenantAdmin`: all of its tenant's jobs, and its tenant's tokens;
/// - `clusterAdmin`: every tenant, nodes (drain, undrain, revoke), quotas, tokens, the audit log.
public enum Role: String, Sendable, Codable, Hashable, CaseIterable, Comparable {
    case viewer
    case submitter
    case tenantAdmin = "tenant-admin"
    case clusterAdmin = "cluster-admin"

    var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// Who sent a request, as schedd authenticated it from the connection's token: never from a
/// field the client sends. Every request is authorized against it.
public struct Principal: Sendable, Hashable {
    /// The token's id (not its secret): what the audit log names.
    public var tokenID: String
    /// The tenant the token belongs to; nil for a cluster admin's token.
    public var tenant: String?
    public var role: Role
    /// The Unix user the holder's tasks run as on the nodes; nil runs them as `nobody`.
    public var user: String?
    /// Whether the tenant may run tasks as root (the tenant's `allow-root`).
    public var mayRunAsRoot: Bool

    public init(tokenID: String, tenant: String?, role: Role, user: String? = nil, mayRunAsRoot: Bool = false) {
        self.tokenID = tokenID
        self.tenant = tenant
        self.role = role
        self.user = user
        self.mayRunAsRoot = mayRunAsRoot
    }

    /// The cluster admin: the holder of `admin.token`, and in-process callers (tests, tools).
    public static let clusterAdmin = Principal(tokenID: "admin", tenant: nil, role: .clusterAdmin, user: nil, mayRunAsRoot: true)

    /// Whether this principal may see jobs of `tenant` (a cluster admin sees every tenant).
    public func sees(tenant other: String) -> Bool { role == .clusterAdmin || tenant == other }

    /// What a job it submits records as its owner: the Unix user, or the token when it has none.
    public var ownerName: String { user ?? "token:\(tokenID)" }
}
