/// `TOKEN_CREATE`: a new bearer token. `kind` `client` (with a tenant and role, and optionally
/// the Unix user its jobs run as) or `agent` (a join token, single use unless `uses` says more).
public struct TokenCreate: Sendable, Codable, Hashable {
    public var kind: String
    public var tenant: String?
    public var role: Role?
    public var user: String?
    /// Lifetime in seconds (agent tokens: 1 h when absent; client tokens: no expiry when absent).
    public var ttlSeconds: Int?
    /// How many registrations an agent token allows (default 1).
    public var uses: Int?
    public init(kind: String, tenant: String? = nil, role: Role? = nil, user: String? = nil, ttlSeconds: Int? = nil, uses: Int? = nil) {
        self.kind = kind
        self.tenant = tenant
        self.role = role
        self.user = user
        self.ttlSeconds = ttlSeconds
        self.uses = uses
    }
}

/// A token as listings show it: never its secret.
public struct TokenInfo: Sendable, Codable, Hashable {
    public var id: Int64
    public var kind: String
    public var tenant: String?
    public var role: Role?
    public var user: String?
    public var createdAtMs: Int64
    public var expiresAtMs: Int64?
    public var usesLeft: Int?
    public var revokedAtMs: Int64?
    public init(id: Int64, kind: String, tenant: String? = nil, role: Role? = nil, user: String? = nil, createdAtMs: Int64,
                expiresAtMs: Int64? = nil, usesLeft: Int? = nil, revokedAtMs: Int64? = nil) {
        self.id = id
        self.kind = kind
        self.tenant = tenant
        self.role = role
        self.user = user
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
        self.usesLeft = usesLeft
        self.revokedAtMs = revokedAtMs
    }
}

/// The reply to `TOKEN_CREATE`: the token's secret, shown this once (schedd keeps only its hash).
public struct TokenCreated: Sendable, Codable, Hashable {
    public var token: String
    public var info: TokenInfo
    public init(token: String, info: TokenInfo) {
        self.token = token
        self.info = info
    }
}

/// The reply to `TOKENS`.
public struct TokenList: Sendable, Codable, Hashable {
    public var tokens: [TokenInfo]
    public init(tokens: [TokenInfo]) { self.tokens = tokens }
}

/// `TOKEN_REVOKE`: the token is refused from now on (answered `OK`).
public struct TokenRevoke: Sendable, Codable, Hashable {
    public var id: Int64
    public init(id: Int64) { self.id = id }
}
