/// What a bearer token lets its holder be. Only `admin` tokens exist so far (schedd's
/// `admin.token`); client tokens (a tenant and role) and agent join tokens come later.
public enum TokenKind: String, Sendable, Codable, Hashable, CaseIterable {
    case admin, client, agent
}

/// A token as the store keeps it: never the secret, only its SHA-256 (hex), with who it stands for
/// and how long it is good for. Times are Unix milliseconds (wall clock).
public struct StoredToken: Sendable, Hashable {
    /// Assigned by the store; names the token in listings and revocations.
    public var id: Int64
    /// SHA-256 of the token's written form, lowercase hex.
    public var hash: String
    public var kind: TokenKind
    /// The tenant a client token acts for (later phases).
    public var tenant: String?
    /// The role a client token has (later phases).
    public var role: String?
    /// The Unix user a client token's jobs run as (later phases).
    public var unixUser: String?
    public var createdAtMs: Int64
    /// After this the token is refused; nil: never expires.
    public var expiresAtMs: Int64?
    /// How many more times a join token may be used; nil: unlimited.
    public var usesLeft: Int?
    /// When it was revoked; a revoked token is refused.
    public var revokedAtMs: Int64?

    public init(id: Int64 = 0, hash: String, kind: TokenKind, tenant: String? = nil, role: String? = nil,
                unixUser: String? = nil, createdAtMs: Int64, expiresAtMs: Int64? = nil, usesLeft: Int? = nil,
                revokedAtMs: Int64? = nil) {
        self.id = id
        self.hash = hash
        self.kind = kind
        self.tenant = tenant
        self.role = role
        self.unixUser = unixUser
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
        self.usesLeft = usesLeft
        self.revokedAtMs = revokedAtMs
    }

    /// True when the token may be used at `nowMs`: not revoked, not expired, uses left.
    public func isValid(atMs nowMs: Int64) -> Bool {
        revokedAtMs == nil && (expiresAtMs.map { nowMs < $0 } ?? true) && (usesLeft.map { $0 > 0 } ?? true)
    }
}

/// The cluster's CA as the store keeps it (a standby schedd reading a shared store needs it).
public struct ClusterIdentity: Sendable, Hashable {
    public var caCertificatePEM: String
    public var caKeyPEM: String
    public init(caCertificatePEM: String, caKeyPEM: String) {
        self.caCertificatePEM = caCertificatePEM
        self.caKeyPEM = caKeyPEM
    }
}
