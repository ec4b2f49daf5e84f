/// `IDENTITY`, the answer to `WHOAMI`: who the connection's token stands for, as schedd
/// authenticated it (`schedctl login` prints it). Never the token's secret.
public struct IdentityInfo: Sendable, Codable, Hashable {
    /// The token's id (`admin` for schedd's cluster-admin token): what the audit log names.
    public var token: String
    /// The token's tenant; absent for a cluster admin.
    public var tenant: String?
    public var role: Role
    /// The Unix user the holder's tasks run as on the nodes; absent runs them as `nobody`.
    public var user: String?

    public init(token: String, tenant: String? = nil, role: Role, user: String? = nil) {
        self.token = token
        self.tenant = tenant
        self.role = role
        self.user = user
    }

    /// What a principal is, as the wire tells it.
    public init(_ p: Principal) {
        self.init(token: p.tokenID, tenant: p.tenant, role: p.role, user: p.user)
    }
}
